"""``laps``: per-lap (or per-km) splits of one run -- every dynamic present, HR, power, elevation,
and the experiment arm tagged on each lap."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer
from rich.table import Table

from stridelab.cli._common import AthleteOpt, JsonOpt, StoreOpt, console, fail, open_store, print_json
from stridelab.present.text import markup as escape
from stridelab.services import StoreError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("laps")
    def laps_cmd(
        run_id: str = typer.Argument(..., help="Run id or a unique prefix."),
        km: bool = typer.Option(
            False, "--km", help="Split per kilometre (per mile with --units imperial) instead of per lap."
        ),
        units: str = typer.Option("metric", "--units", help="metric or imperial (min/mi, mi)."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Per-lap (or per-km with --km) table of one run: distance, time, sport-aware speed, elevation,
        heart rate, power and every running dynamic present, with the experiment arm of each lap."""
        if units not in ("metric", "imperial"):
            raise fail(
                f"Invalid value for '--units'. Allowed values are 'metric', 'imperial', but got {units!r}."
            )
        from stridelab.present.splits import split_columns, split_rows, splits_json
        from stridelab.services.splits import run_splits  # lazy: the analytics are heavy to import

        st = open_store(store)
        try:
            by: Literal["lap", "km", "mi"] = ("mi" if units == "imperial" else "km") if km else "lap"
            table = run_splits(st, athlete, run_id, by=by)
        except StoreError as exc:
            raise fail(str(exc)) from exc
        if as_json:
            print_json(splits_json(table))
            return
        cols = split_columns(table, units=units)
        what = {"km": "kilometres", "mi": "miles"}.get(table.by, "laps")
        out = Table(title=f"{what} of run {table.run_id[:8]} ({escape(table.sport or '?')})")
        for key, header in cols:
            out.add_column(escape(header), justify="left" if key in ("split", "arm") else "right")
        for row in split_rows(table, units=units):
            out.add_row(*(escape(row[key]) for key, _ in cols))
        console.print(out)
        if not len(table.frame):
            console.print("no records: nothing to split")
