"""``status``: the home in the terminal -- where you stand, why, what to do today, is it working."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from stridelab.cli._common import (
    AthleteOpt,
    JsonOpt,
    StoreOpt,
    UnitsOpt,
    console,
    fail,
    open_store,
    print_json,
)
from stridelab.present.text import markup as escape
from stridelab.services import StoreError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status_cmd(
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
        units: str = UnitsOpt,
        today: datetime | None = typer.Option(
            None, "--today", formats=["%Y-%m-%d"], help="The day to answer for (default: today)."
        ),
    ) -> None:
        """Where you stand (pace-adjusted balance, GCT, VO with intervals), why, what to do today, is it
        working (experiment, plan outcome) and the load guard; each line with the command that shows
        its evidence."""
        from stridelab.present.home import home_json, home_sentences
        from stridelab.services.home import home  # lazy: the analytics are heavy to import

        st = open_store(store)
        try:
            h = home(st, athlete, today=today.date() if today else None)
        except StoreError as exc:
            raise fail(str(exc)) from exc
        if as_json:
            print_json(home_json(h, units=units))
            return
        console.print(
            f"[bold]stridelab[/] home for [bold]{escape(h.athlete)}[/] on {h.today.isoformat()} "
            f"({h.n_runs} runs, latest {h.last_run_day or '-'})"
        )
        for m in h.messages:
            console.print(f"[yellow]![/] {escape(m)}")
        for s in home_sentences(h, units=units):
            if s.text is None:
                console.print(f"[dim]- {escape(s.section)}: cannot say yet:[/] {escape(s.reason or '')}")
            else:
                console.print(f"- [bold]{escape(s.text)}[/]")
                if s.numbers:
                    console.print(f"    {escape(s.numbers)}")
            if s.links:
                console.print("    [dim]see: " + escape(" | ".join(lk.command for lk in s.links[:3])) + "[/]")
