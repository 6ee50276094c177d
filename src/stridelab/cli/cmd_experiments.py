"""Tags, N-of-1 experiments and the personal baseline: ``tag``, ``tags``, ``experiment ...``, ``baseline``.

``stridelab tag RUN_ID cue=push-behind --lap 1,3,5`` tags laps (numbered from 1 as on the watch);
``--from 10:00 --to 20:00`` a timer-time range; without ``--lap``/``--from`` the whole run.
``stridelab tag RUN_ID`` lists the run's tags, ``stridelab tag RUN_ID cue --remove`` removes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from stridelab.cli._common import (
    AthleteOpt,
    JsonOpt,
    StoreOpt,
    console,
    err_console,
    fail,
    open_store,
    print_json,
    progress_bar,
)
from stridelab.cli._table import FastTable
from stridelab.lazy import lazy_module
from stridelab.present.format import clock, num
from stridelab.present.text import markup as esc
from stridelab.services import StoreError
from stridelab.services import experiments as svc

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["register"]


def _date(text: str | None, option: str) -> pd.Timestamp | None:
    if text is None:
        return None
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise fail(f"Invalid value for {option}: {text!r} is not a date (use YYYY-MM-DD)") from exc
    if pd.isna(ts):
        raise fail(f"Invalid value for {option}: {text!r} is not a date (use YYYY-MM-DD)")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _tags_table(tags: list[Any], title: str) -> Table:
    table = Table(title=title)
    for col in ("run", "tag", "scope", "where"):
        table.add_column(col, no_wrap=True)
    for t in tags:
        where = "whole run"
        if t.scope == "lap":
            where = f"lap {t.lap_number}"
        elif t.scope == "range" and t.from_s is not None and t.to_s is not None:
            where = f"{clock(t.from_s)}-{clock(t.to_s)}"
        table.add_row(t.activity_id[:8], esc(f"{t.key}={t.value}"), t.scope, where)
    return table


def _print_protocol(exp: Any, as_json: bool) -> None:
    if as_json:
        print_json({**exp.to_dict(), "protocol_text": svc.protocol_text(exp)})
    else:
        console.print(svc.protocol_text(exp), highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add ``tag``, ``tags``, ``experiment`` and ``baseline`` to ``app``."""

    @app.command("tag")
    def tag_cmd(
        run_id: str = typer.Argument(..., help="Run id (an unambiguous prefix is enough)."),
        tags: list[str] | None = typer.Argument(
            None, help="key=value tags (e.g. cue=push-behind); with --remove: key or key=value to remove."
        ),
        lap: str | None = typer.Option(
            None, "--lap", help="Laps, numbered from 1 as on the watch: 1,3,5 or 2-6."
        ),
        from_: str | None = typer.Option(None, "--from", help="Range start, timer time (mm:ss, h:mm:ss)."),
        to: str | None = typer.Option(None, "--to", help="Range end, timer time (mm:ss, h:mm:ss)."),
        list_: bool = typer.Option(False, "--list", help="List the run's tags (the default without tags)."),
        remove: bool = typer.Option(False, "--remove", help="Remove the given keys/tags (all without any)."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Tag a run, some laps or a time range (cue=push-behind); list or remove a run's tags."""
        st = open_store(store)
        items = list(tags or [])
        try:
            laps = svc.parse_laps(lap) if lap is not None else None
            if remove:
                if from_ is not None or to is not None:
                    raise svc.TagError("--remove works on keys/values and --lap, not on --from/--to")
                n = 0
                selectors: list[str | None] = list(items) if items else [None]
                for sel in selectors:
                    n += svc.remove_tags(st, athlete, run_id, sel, laps=laps)
                if as_json:
                    print_json({"removed": n})
                else:
                    console.print(f"removed {n} tag(s)")
                return
            if list_ or not items:
                if lap is not None or from_ is not None or to is not None:
                    raise svc.TagError("--lap/--from/--to need key=value tags to set")
                found = svc.list_tags(st, athlete, run_id=run_id)
                if as_json:
                    print_json([t.to_dict() for t in found])
                elif not found:
                    console.print("no tags on this run")
                else:
                    console.print(_tags_table(found, f"tags of run {found[0].activity_id[:12]}"))
                return
            pairs = [svc.parse_tag(t) for t in items]
            f = svc.parse_clock(from_) if from_ is not None else None
            t = svc.parse_clock(to) if to is not None else None
            stored, warnings = svc.add_tags(st, athlete, run_id, pairs, laps=laps, from_s=f, to_s=t)
        except (svc.TagError, StoreError) as exc:
            raise fail(str(exc)) from exc
        for w in warnings:
            err_console.print(f"[yellow]warning:[/] {esc(w)}")
        if as_json:
            print_json({"tags": [x.to_dict() for x in stored], "warnings": warnings})
        else:
            console.print(f"tagged: {esc(', '.join(x.label() for x in stored))}")

    @app.command("tags")
    def tags_cmd(
        key: str | None = typer.Option(None, "--key", help="Only this key (e.g. cue)."),
        value: str | None = typer.Option(None, "--value", help="Only this value."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """List the tags of all runs."""
        st = open_store(store)
        found = svc.list_tags(st, athlete, key=key, value=value)
        if as_json:
            print_json([t.to_dict() for t in found])
        elif not found:
            console.print("no tags yet: stridelab tag RUN_ID cue=push-behind [--lap 1,3,5]")
        else:
            console.print(_tags_table(found, "tags"))

    exp_app = typer.Typer(
        help="N-of-1 experiments on form cues: create, analyze, list, protocol.", no_args_is_help=True
    )
    app.add_typer(exp_app, name="experiment")

    @exp_app.command("create")
    def exp_create(
        name: str = typer.Argument(..., help='Experiment name, e.g. "push vs pull".'),
        arms: str = typer.Option(..., "--arms", help="The two arms (tag values) A,B; effect = B - A."),
        primary: str = typer.Option(
            "balance",
            "--primary",
            help="The one metric judged: balance | gct | vo | cadence (the others are exploratory).",
        ),
        design: str = typer.Option(
            "alternating-laps", "--design", help="alternating-laps | alternating-runs | before-after."
        ),
        tag_key: str = typer.Option("cue", "--tag-key", help="Tag key whose values are the arms."),
        runs: int | None = typer.Option(None, "--runs", min=1, help="Runs in the protocol."),
        blocks: int | None = typer.Option(None, "--blocks", min=2, help="Laps per run (alternating-laps)."),
        block_m: float | None = typer.Option(None, "--block-m", min=100.0, help="Block distance in m."),
        seed: int | None = typer.Option(None, "--seed", help="Seed of the randomised arm order."),
        change_date: str | None = typer.Option(
            None, "--change-date", help="before-after: arm B from this date (YYYY-MM-DD) instead of tags."
        ),
        window_days: int | None = typer.Option(None, "--window-days", min=1, help="before-after window."),
        phase_days: int | None = typer.Option(
            None, "--phase-days", min=0, help="before-after: days after the change date left out (the phase)."
        ),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Define an experiment and print its protocol (arm order randomised, seed recorded)."""
        st = open_store(store)
        try:
            exp = svc.create_experiment(
                st,
                athlete,
                name,
                arms,
                design,
                tag_key=tag_key,
                seed=seed,
                runs=runs,
                blocks_per_run=blocks,
                block_m=block_m,
                change_date=change_date,
                window_days=window_days,
                phase_days=phase_days,
                primary=primary,
            )
        except svc.ExperimentError as exc:
            raise fail(str(exc)) from exc
        _print_protocol(exp, as_json)

    @exp_app.command("protocol")
    def exp_protocol(
        name: str = typer.Argument(..., help="Experiment name."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Print the protocol of an experiment again."""
        st = open_store(store)
        try:
            exp = svc.get_experiment(st, athlete, name)
        except svc.ExperimentError as exc:
            raise fail(str(exc)) from exc
        _print_protocol(exp, as_json)

    @exp_app.command("list")
    def exp_list(
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """List experiments with their tagged blocks per arm."""
        st = open_store(store)
        rows = svc.experiment_overview(st, athlete)
        if as_json:
            print_json(rows)
            return
        if not rows:
            console.print('no experiments yet: stridelab experiment create "push vs pull" --arms A,B')
            return
        table = Table(title="experiments")
        for col in ("name", "design", "arms A vs B (effect B - A)", "primary", "tagged blocks", "planned"):
            table.add_column(col)
        for r in rows:
            a, b = r["arms"]
            counts = r["tagged_blocks"]
            table.add_row(
                esc(r["name"]),
                r["design"],
                esc(f"{a} vs {b} ({r['tag_key']})"),
                r["primary_metric"],
                esc(f"{a}: {counts[a]}, {b}: {counts[b]}"),
                str(r["planned_blocks"]),
            )
        console.print(table)

    @exp_app.command("delete")
    def exp_delete(
        name: str = typer.Argument(..., help="Experiment name."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
    ) -> None:
        """Delete an experiment definition (the tags stay)."""
        st = open_store(store)
        if not svc.delete_experiment(st, athlete, name):
            raise fail(f"No experiment named {name!r}")
        console.print(f"deleted experiment {esc(repr(name))}")

    @exp_app.command("analyze")
    def exp_analyze(
        name: str = typer.Argument(..., help="Experiment name."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Compare the arms: effect (B - A) on balance, GCT, VO, cadence with 95 % CI and p-value."""
        st = open_store(store)
        try:
            d = svc.experiment_report(st, athlete, name)
        except svc.ExperimentError as exc:
            raise fail(str(exc)) from exc
        if as_json:
            print_json(d)
            return
        a, b = d["arms"]
        console.print(
            f"[bold]{esc(d['name'])}[/] ({d['design']}): {esc(a)} vs {esc(b)}, "
            f"effect = {esc(b)} - {esc(a)}; primary metric: {d['primary_metric']}"
        )
        summary = d["summary"]
        lead = "" if summary.startswith(d["verdict"]) else f"[bold]{esc(d['verdict'])}:[/] "
        console.print(lead + esc(summary), highlight=False)
        look = d["looks"]
        if look:
            console.print(
                f"look {look['look']} of {look['n_looks_planned']} (one per run): {look['n_blocks']} of "
                f"{look['planned_blocks']} planned blocks, alpha spent {look['alpha_spent']:.3g} of "
                f"{look['alpha']:g}, this look's level {look['nominal_alpha']:.3g}",
                highlight=False,
            )
        table = Table()
        cols = ("metric", "role", "effect (B - A)", "95 % CI", "p", "p (Holm)", "blocks A/B", "block SD")
        for col in (*cols, "blocks needed"):
            table.add_column(col)
        for key, m in d["metrics"].items():
            nd = 2 if m["unit"] == "pp" else 1
            table.add_row(
                f"{m['what']} ({m['unit']})",
                m["role"],
                num(m["effect"], nd, signed=True, missing="-"),
                f"{num(m['ci_low'], nd, signed=True, missing='-')} to "
                f"{num(m['ci_high'], nd, signed=True, missing='-')}",
                num(m["p_value"], 3, missing="-"),
                num(m["p_holm"], 3, missing="-") if m["role"] != "primary" else "",
                f"{m['n_blocks_a']}/{m['n_blocks_b']}",
                num(m["block_sd"], nd, missing="-"),
                str(m["n_blocks_needed"] or "-") if key == d["primary_metric"] else "",
            )
        console.print(table)
        console.print(
            "exploratory: the other metrics carry no verdict; their p-values are Holm-adjusted over them",
            highlight=False,
        )
        console.print(f"method: {d['primary']['method']}", highlight=False, markup=False)
        if d["protocol_deviations"]:
            console.print(
                f"[bold yellow]protocol deviations:[/] {len(d['protocol_deviations'])} block(s) tagged "
                "against the randomised order (see the note below)",
                highlight=False,
            )
        for msg in d["messages"]:
            console.print(f"[yellow]note:[/] {esc(msg)}", highlight=False)

    @app.command("baseline")
    def baseline_cmd(
        since: str | None = typer.Option(None, "--since", help="Only runs on/after this date (YYYY-MM-DD)."),
        until: str | None = typer.Option(None, "--until", help="Only runs before this date (YYYY-MM-DD)."),
        window: int = typer.Option(20, "--window", min=3, help="Baseline: this many previous runs."),
        min_runs: int = typer.Option(5, "--min-runs", min=2, help="Runs needed before a baseline exists."),
        only_flagged: bool = typer.Option(False, "--flagged", help="Only runs outside their baseline."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Each run against your personal baseline of pace-adjusted balance, with outliers explained."""
        st = open_store(store)
        with progress_bar("analysing runs (once; then cached)") as tick:
            rows, ref = svc.baseline_report(
                st,
                athlete,
                since=_date(since, "--since"),
                until=_date(until, "--until"),
                window_runs=window,
                min_runs=min_runs,
                only_flagged=only_flagged,
                progress=tick,
            )
        tags = svc.tags_for_runs(st, athlete, [r["id"] for r in rows])
        if as_json:
            print_json([r | {"tags": tags.get(r["id"], [])} for r in rows])
            return
        if not rows:
            console.print("no runs to compare (import runs with running dynamics first)")
            return
        table = FastTable(f"personal baseline (pace-adjusted at {num(ref, 2, missing='-')} m/s)")
        for col in ("id", "date", "observed % L", "expected", "residual pp", "flag", "explanation", "tags"):
            table.add_column(col)
        for r in rows:
            style = "" if r["flag"] in ("normal", "no_baseline", "no_balance") else "bold red"
            table.add_row(
                r["id"][:8],
                str(r["start_time"])[:10],
                num(r["observed_left_pct"], 1, missing="-"),
                num(r["expected_left_pct"], 1, missing="-"),
                num(r["residual_pp"], 2, signed=True, missing="-"),
                (r["flag"], style) if style else r["flag"],
                r["explanation"],
                ", ".join(tags.get(r["id"], [])),
            )
        table.print(console)
