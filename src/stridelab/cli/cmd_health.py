"""Health commands: ``walking`` (daily walking gait from Apple Health)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from stridelab.cli._common import AthleteOpt, JsonOpt, StoreOpt, console, fail, open_store, print_json
from stridelab.present.format import num
from stridelab.present.walking import WALKING_DISPLAY, walking_json
from stridelab.services import health as health_service

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``walking`` to ``app``."""

    @app.command("walking")
    def walking_cmd(
        days: int | None = typer.Option(
            None, "--days", help="Only the last N days (ending on the last day with data)."
        ),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Daily walking gait from Apple Health (iPhone): walking asymmetry, double support, step length
        and walking speed per day, and their means over the days shown."""
        st = open_store(store)
        try:
            gait = health_service.walking_gait(st, athlete, days)
        except ValueError as exc:
            raise fail(str(exc)) from None
        payload = walking_json(gait)
        if as_json:
            print_json(payload)
            return
        if gait.empty:
            console.print(
                "no walking gait data yet: import an Apple Health export (export.zip or export.xml)"
            )
            return
        specs = list(WALKING_DISPLAY.values())
        table = Table(title=f"walking gait, {payload['first_day']} to {payload['last_day']}")
        table.add_column("day")
        for spec in specs:
            table.add_column(f"{spec.label} ({spec.unit})", justify="right")
        for row in payload["days"]:
            table.add_row(row["day"], *(num(row[s.key], s.decimals) for s in specs))
        table.add_section()
        table.add_row(Text("mean", style="bold"), *(num(payload["means"][s.key], s.decimals) for s in specs))
        console.print(table)
        console.print(Text("sources: " + ", ".join(payload["sources"]), style="dim"))
