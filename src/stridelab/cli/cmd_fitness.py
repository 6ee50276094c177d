"""``fitness``: load beyond kilometres -- heart-rate TRIMP, a power stress score, and fitness/fatigue
(CTL/ATL/TSB), with the 10 % check and the ACWR on that load and every assumption said."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer
from rich.table import Table

from stridelab.cli._common import AthleteOpt, JsonOpt, StoreOpt, console, fail, open_store, print_json
from stridelab.present import format as fmt
from stridelab.present.text import markup as escape
from stridelab.services import StoreError

__all__ = ["register"]

_NAMES = {"trimp": "TRIMP (heart rate)", "power_stress": "power stress score (TSS formula, CP)"}


def register(app: typer.Typer) -> None:
    @app.command("fitness")
    def fitness_cmd(
        hr_rest: float | None = typer.Option(
            None, "--hr-rest", min=25, max=120, help="Resting heart rate (bpm)."
        ),
        hr_max: float | None = typer.Option(
            None, "--hr-max", min=100, max=240, help="Maximal heart rate (bpm)."
        ),
        sex: str = typer.Option("female", "--sex", help="female or male (Banister's TRIMP weighting)."),
        cp: float | None = typer.Option(
            None, "--cp", min=50, max=1000, help="Critical power (W) for the power score."
        ),
        weeks: int = typer.Option(12, "--weeks", min=1, max=520, help="Weeks to list (default 12)."),
        today: datetime | None = typer.Option(None, "--today", formats=["%Y-%m-%d"], help="Default: today."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Heart-rate TRIMP and power stress per week, fitness (CTL, 42 d), fatigue (ATL, 7 d) and form
        (TSB), with the 10 % check and the ACWR on that load -- and their caveats."""
        from stridelab.services.training import fitness  # lazy

        if sex not in ("female", "male"):
            raise fail(f"Invalid value for '--sex'. Allowed values are 'female', 'male', but got {sex!r}.")
        day = today.date() if today else date.today()
        try:
            rep = fitness(
                open_store(store), athlete, today=day, hr_rest=hr_rest, hr_max=hr_max, sex=sex, cp_w=cp
            )
        except (StoreError, ValueError) as exc:
            raise fail(str(exc)) from exc
        if as_json:
            print_json(
                {
                    "today": day.isoformat(),
                    "hr_rest_bpm": rep.hr_rest,
                    "hr_max_bpm": rep.hr_max,
                    "cp_w": rep.cp_w,
                    "assumptions": list(rep.assumptions),
                    "loads": {
                        name: {
                            "latest": rep.latest(name),
                            "weeks": rep.weekly(name).tail(weeks).to_dict("records"),
                        }
                        for name in rep.daily
                    },
                    "runs": rep.runs.to_dict("records"),
                    "caveats": list(rep.caveats),
                }
            )
            return
        if not rep.daily:
            console.print("No runs with heart rate or power up to this day: no load beyond kilometres.")
            return
        for name in rep.daily:
            latest = rep.latest(name) or {}
            console.print(
                f"[bold]{_NAMES[name]}[/]: fitness (CTL) {fmt.num(latest.get('ctl'), 0)}, fatigue (ATL) "
                f"{fmt.num(latest.get('atl'), 0)}, form (TSB) {fmt.num(latest.get('tsb'), 0, signed=True)}"
            )
            t = Table("week", "load", "change %", "ACWR")
            for w in rep.weekly(name).tail(weeks).to_dict("records"):
                t.add_row(
                    str(w["week_start"]),
                    fmt.num(w["load"], 0),
                    fmt.num(w["change_pct"], 0, signed=True, missing="-"),
                    fmt.num(w["acwr"], 2, missing="-"),
                )
            console.print(t)
        for a in rep.assumptions:
            console.print(f"[yellow]assumed:[/] {escape(a)}")
        for c in rep.caveats:
            console.print(f"[dim]{escape(c)}[/]")
