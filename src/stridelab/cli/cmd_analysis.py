"""Running-dynamics commands: ``analyze``, ``trend``, ``report``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from stridelab.cli._common import (
    AthleteOpt,
    JsonOpt,
    StoreOpt,
    UnitsOpt,
    console,
    err_console,
    fail,
    open_store,
    print_json,
    progress_bar,
)
from stridelab.cli._table import FastTable
from stridelab.lazy import lazy_module
from stridelab.present import format as fmt
from stridelab.present import metrics
from stridelab.present.text import markup as esc
from stridelab.present.text import plain
from stridelab.services import Store, StoreError
from stridelab.services import analysis as analysis_service
from stridelab.services import runs as runs_service
from stridelab.units import parse_pace

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["register"]

#: what a terminal table shows for an unknown value
_NA = "-"


def _parse_date(text: str | None, option: str) -> pd.Timestamp | None:
    if text is None:
        return None
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise fail(f"Invalid value for {option}: {text!r} is not a date (use YYYY-MM-DD)") from exc
    if pd.isna(ts):
        raise fail(f"Invalid value for {option}: {text!r} is not a date (use YYYY-MM-DD)")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _explicit_ref(ref_speed: float | None, ref_pace: str | None) -> float | None:
    if ref_speed is not None and ref_pace is not None:
        raise fail("Give either --ref-speed or --ref-pace, not both")
    if ref_pace is not None:
        try:
            return parse_pace(ref_pace)
        except ValueError as exc:
            raise fail(str(exc)) from exc
    if ref_speed is not None and not (math.isfinite(ref_speed) and 0.5 <= ref_speed <= 12.0):
        raise fail(f"Invalid value for --ref-speed: {ref_speed} m/s (expected 0.5 to 12 m/s)")
    return ref_speed


def _resolve_ref(store: Store, athlete: str, explicit: float | None) -> tuple[float | None, str]:
    if explicit is not None:
        return explicit, "option"
    ref = analysis_service.athlete_ref_speed(store, athlete)
    return (ref, "athlete_easy_run_median") if ref is not None else (None, "run_median")


def _config(drift_clock: str) -> analysis_service.AnalysisConfig:
    if drift_clock not in analysis_service.DRIFT_CLOCKS:
        raise fail(
            "Invalid value for --drift-clock. Allowed values are 'elapsed', 'timer', 'running', "
            f"but got {drift_clock!r} instead."
        )
    return analysis_service.analysis_config(drift_clock)


def _print_analysis(payload: dict[str, Any], units: str = "metric") -> None:
    from rich.table import Table  # here: trend (FastTable) does not need it

    b = payload["balance"]
    ref = payload["ref_speed_m_s"]
    console.print(
        f"[bold]Run {payload['id'][:12]}[/]  {payload['start_time'] or 'no absolute time'}  "
        f"{esc(payload.get('sport') or '')}  "
        f"sensor: {payload['sensor']['label']}"
    )
    if payload.get("tags"):
        console.print("tags: " + esc(", ".join(payload["tags"])))
    console.print(
        f"recorded {payload['duration_s'] / 60:.1f} min, clean running {payload['running_s'] / 60:.1f} min, "
        f"modelled {payload['modelled_s'] / 60:.1f} min; reference speed "
        f"{fmt.num(ref, 2, missing=_NA)} m/s ({fmt.pace_of_speed(ref, units=units)}, "
        f"{payload['ref_speed_source'].replace('_', ' ')})"
    )
    t = Table(title="GCT balance (left share, %)")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    t.add_row("mean (clean running)", fmt.num(b["mean_left_pct"], 2, missing=_NA))
    t.add_row("median", fmt.num(b["median_left_pct"], 2, missing=_NA))
    t.add_row("at reference speed (mid-run)", fmt.num(b["at_ref_speed_left_pct"], 2, missing=_NA))
    ci = b.get("at_ref_speed_ci_left_pct")
    t.add_row(
        "  95 % CI", f"{fmt.num(ci[0], 2, missing=_NA)} – {fmt.num(ci[1], 2, missing=_NA)}" if ci else "-"
    )
    t.add_row("at reference speed, start of run", fmt.num(b["at_ref_speed_start_left_pct"], 2, missing=_NA))
    t.add_row(
        "speed slope, pp per m/s [95 % CI]", fmt.interval_of(b["speed_slope_pp_per_m_s"], 3, missing=_NA)
    )
    t.add_row("fatigue drift, pp per hour [95 % CI]", fmt.interval_of(b["drift_pp_per_h"], missing=_NA))
    t.add_row(
        "last − first third, pp [95 % CI]", fmt.interval_of(b["last_minus_first_third_pp"], missing=_NA)
    )
    zones = b.get("zones_s") or {}
    t.add_row(
        "time in zones (min) red L / orange L / green / orange R / red R",
        " / ".join(
            fmt.num((zones.get(z) or 0.0) / 60.0, 1, missing=_NA) if zones.get(z) is not None else "-"
            for z in ("red_left", "orange_left", "green", "orange_right", "red_right")
        ),
    )
    console.print(t)
    m = Table(title="Other running dynamics")
    for col in ("metric", "mean", "median", "at ref speed", "drift per hour [95 % CI]"):
        m.add_column(col, justify="left" if col == "metric" else "right")
    for metric in metrics.OTHER_MODELLED:
        d = payload[metrics.contract_key(metric)]
        m.add_row(
            metrics.axis_label(metric),
            fmt.num(d.get("mean"), 1, missing=_NA),
            fmt.num(d.get("median"), 1, missing=_NA),
            fmt.num(d.get("at_ref_speed"), 1, missing=_NA),
            (
                fmt.interval(
                    d.get("drift_per_h"),
                    d.get("drift_per_h_ci")[0],
                    d.get("drift_per_h_ci")[1],
                    2,
                    missing=_NA,
                )
                if d.get("drift_per_h_ci")
                else _NA
            ),
        )
    for key, d in payload["metrics"].items():
        m.add_row(
            f"{key} ({d['unit']})",
            fmt.num(d.get("mean"), 1, missing=_NA),
            fmt.num(d.get("median"), 1, missing=_NA),
            "-",
            "-",
        )
    console.print(m)
    if payload["flags"]:
        console.print("flags: " + ", ".join(payload["flags"]))
    for msg in payload["messages"]:
        console.print(f"[yellow]note:[/] {esc(msg['message'])}")


def register(app: typer.Typer) -> None:
    """Add ``analyze``, ``trend`` and ``report`` to the ``stridelab`` app."""

    @app.command("analyze")
    def analyze_cmd(
        run_id: str = typer.Argument(..., help="Run id (or a unique prefix of at least 4 characters)."),
        ref_speed: float | None = typer.Option(None, "--ref-speed", help="Reference speed in m/s."),
        ref_pace: str | None = typer.Option(
            None, "--ref-pace", help="Reference pace, e.g. 5:30/km or 8:51/mi."
        ),
        drift_clock: str = typer.Option("elapsed", "--drift-clock", help="elapsed | timer | running"),
        no_cache: bool = typer.Option(
            False, "--no-cache", help="Recompute instead of using the cached analysis."
        ),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
        units: str = UnitsOpt,
    ) -> None:
        """Running-dynamics analysis of one run: clean segments, zones, pace-adjusted balance and drift."""
        explicit = _explicit_ref(ref_speed, ref_pace)
        _config(drift_clock)  # a clear error for an unknown clock
        st = open_store(store)
        try:
            row = runs_service.get_run(st, athlete, run_id)
            # kept in the store per run and reference speed: a warm call reads one row
            report = analysis_service.run_report(
                st, athlete, row.id, ref_speed_m_s=explicit, drift_clock=drift_clock, use_cache=not no_cache
            )
        except (StoreError, KeyError) as exc:
            raise fail(str(exc)) from exc
        payload: dict[str, Any] = {
            "id": row.id,
            "start_time": row.start_utc.isoformat() if row.time_absolute else None,  # None: no date
            "sport": row.sport,
        }
        payload.update(report)  # ref_speed_source first, then the analysis contract
        payload["tags"] = runs_service.run_tags(st, athlete, [row.id]).get(row.id, [])
        if as_json:
            print_json(payload)
        else:
            _print_analysis(payload, units)

    @app.command("trend")
    def trend_cmd(
        since: str | None = typer.Option(None, "--since", help="First day (YYYY-MM-DD), inclusive."),
        until: str | None = typer.Option(None, "--until", help="Last day (YYYY-MM-DD), exclusive."),
        window: int = typer.Option(5, "--window", min=1, max=100, help="Rolling-median window in runs."),
        ref_speed: float | None = typer.Option(None, "--ref-speed", help="Reference speed in m/s."),
        ref_pace: str | None = typer.Option(None, "--ref-pace", help="Reference pace, e.g. 5:30/km."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Recompute every run."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
        units: str = UnitsOpt,
        full: bool = typer.Option(
            False, "--full", help="With --json: the whole analysis (trend, weeks, months), not only rows."
        ),
        all_runs: bool = typer.Option(
            False, "--all", help="Also list runs without running dynamics (hidden by default)."
        ),
        run_type: str | None = typer.Option(
            None, "--type", help="Only runs of this type: steady, easy, intervals, hills, flat."
        ),
        distance: str | None = typer.Option(
            None, "--distance", help="Only runs of this distance, e.g. 5k-15k, 10k- or -21.1k."
        ),
        tag: str | None = typer.Option(
            None, "--tag", help="Only runs tagged KEY or KEY=VALUE (on the run or a lap), e.g. shoes=new."
        ),
    ) -> None:
        """GCT balance across runs: raw and pace-adjusted, rolling median, robust trend, weeks, months.

        ``--json`` prints one row per run (``id``, ``start_time``, ``balance_mean_left_pct``,
        ``balance_at_ref_speed_left_pct``, ...); ``--json --full`` the whole trend analysis object.
        """
        explicit = _explicit_ref(ref_speed, ref_pace)
        t_since, t_until = _parse_date(since, "--since"), _parse_date(until, "--until")
        st = open_store(store)
        try:
            rng = analysis_service.parse_distance_range(distance) if distance else None
        except ValueError as exc:
            raise fail(str(exc)) from exc
        with progress_bar("analysing runs (once; then cached)") as tick:
            try:
                d = analysis_service.trend_report(
                    st,
                    athlete,
                    since=t_since,
                    until=t_until,
                    ref_speed_m_s=explicit,
                    window_runs=window,
                    use_cache=not no_cache,
                    progress=tick,
                    all_runs=all_runs,
                    run_type=run_type,
                    distance_m=rng,
                    tag=tag,
                )
            except ValueError as exc:
                raise fail(str(exc)) from exc
        runs = d["runs"]
        hidden = int(d.get("hidden") or 0)
        tags = runs_service.run_tags(st, athlete, [str(r["id"]) for r in runs]) if runs else {}
        if as_json:
            for row in runs:
                row["tags"] = tags.get(str(row["id"]), [])
            print_json(d if full else runs)
            return
        if not runs:
            more = f" ({hidden} without running dynamics: --all lists them)" if hidden else ""
            console.print(
                f"No runs with running dynamics for athlete {athlete!r} in the selected period{more}."
            )
            return
        ref = d["ref_speed_m_s"]
        t = FastTable(
            f"GCT balance per run (reference speed {fmt.num(ref, 2, missing=_NA)} m/s, "
            f"{fmt.pace_of_speed(ref, units=units)})"
        )
        cols = ("date", "run", "min", "pace", "raw mean", "at ref", "95 % CI", "drift pp/h", "flags", "tags")
        for col in cols:
            t.add_column(col, justify="left" if col in ("date", "run", "flags", "tags") else "right")
        for r in runs:
            lo, hi = r.get("balance_at_ref_speed_ci_low"), r.get("balance_at_ref_speed_ci_high")
            t.add_row(
                fmt.day(r["start_time"]),
                str(r["id"])[:10],
                fmt.num((r.get("running_s") or math.nan) / 60.0, 0, missing=_NA),
                fmt.pace_of_speed(r.get("speed_median_m_s"), units=units),
                fmt.num(r.get("balance_mean_left_pct"), 2, missing=_NA),
                fmt.num(r.get("balance_at_ref_speed_left_pct"), 2, missing=_NA),
                f"{fmt.num(lo, 2, missing=_NA)}–{fmt.num(hi, 2, missing=_NA)}"
                if lo is not None and hi is not None
                else "-",
                fmt.num(r.get("balance_drift_pp_per_h"), 2, signed=True, missing=_NA),
                plain(", ".join(r.get("flags") or []) or str(r.get("analysis_error") or "")),
                plain(", ".join(tags.get(str(r["id"]), []))),
            )
        t.print(console)
        for name, key in (("pace-adjusted", "adjusted_balance_left_pct"), ("raw", "raw_balance_left_pct")):
            line = d["trend"][key]
            console.print(
                f"{name} trend: "
                + (fmt.interval_of(line["per_30_days"], missing=_NA) + " pp per 30 days" if line else "-")
            )
        mc = d["month_comparison"]
        if mc:
            text = (
                fmt.interval_of(mc["difference_pp"], missing=_NA) + " pp"
                if mc["difference_pp"]
                else (mc["message"] or "-")
            )
            console.print(f"{mc['this_month']} vs {mc['last_month']} at the same pace: {text}")
        for msg in d["messages"]:
            console.print(f"[yellow]note:[/] {esc(msg)}")
        if hidden:
            console.print(f"[dim]{hidden} run(s) without running dynamics not shown (--all lists them)[/]")

    @app.command("report")
    def report_cmd(
        run_id: str | None = typer.Argument(None, help="Run id (or prefix); omit with --trend."),
        output: Path = typer.Option(..., "-o", "--output", help="HTML file to write."),
        trend_mode: bool = typer.Option(
            False, "--trend", help="Trend report across runs instead of one run."
        ),
        since: str | None = typer.Option(None, "--since", help="Trend: first day (YYYY-MM-DD)."),
        until: str | None = typer.Option(None, "--until", help="Trend: last day (YYYY-MM-DD), exclusive."),
        window: int = typer.Option(
            5, "--window", min=1, max=100, help="Trend: rolling-median window in runs."
        ),
        ref_speed: float | None = typer.Option(None, "--ref-speed", help="Reference speed in m/s."),
        ref_pace: str | None = typer.Option(None, "--ref-pace", help="Reference pace, e.g. 5:30/km."),
        png_dir: Path | None = typer.Option(
            None, "--png-dir", help="Also write the charts as PNG files here."
        ),
        units: str = UnitsOpt,
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
    ) -> None:
        """Self-contained HTML report (opens offline) of one run, or of the trend with --trend."""
        from stridelab.report import (
            render_run_html,
            render_trend_html,
            save_run_pngs,
            save_trend_png,
            write_html,
        )

        if trend_mode == (run_id is not None):
            raise fail("Give a RUN_ID for a run report, or --trend (without RUN_ID) for a trend report")
        explicit = _explicit_ref(ref_speed, ref_pace)
        st = open_store(store)
        try:
            if trend_mode:
                table, ref = analysis_service.run_table(
                    st,
                    athlete,
                    since=_parse_date(since, "--since"),
                    until=_parse_date(until, "--until"),
                    ref_speed_m_s=explicit,
                )
                table, _hidden = analysis_service.with_dynamics(table)  # axes from the plotted runs
                trend = analysis_service.trend_analysis(table, ref, window_runs=window)
                period = (
                    f"{len(table)} runs"
                    + (f" since {since}" if since else "")
                    + (f" until {until}" if until else "")
                )
                html = render_trend_html(
                    trend, title=f"GCT balance trend — {athlete}", subtitle=period, units=units
                )
                if png_dir is not None:
                    save_trend_png(trend, png_dir / "trend.png")
            else:
                assert run_id is not None
                row = runs_service.get_run(st, athlete, run_id)
                analysis = analysis_service.analyze_activity(st, athlete, row.id, keep_frame=True)
                ref, _source = _resolve_ref(st, athlete, explicit)
                ref = ref if ref is not None else analysis.speed_median_m_s
                dist = f", {fmt.km(row.distance_m, units=units)}" if row.distance_m else ""
                start = fmt.local_day_time(row.start_time, utc_offset_s=row.utc_offset_s)
                subtitle = f"{start} · {row.sport or 'activity'}{dist} · run {row.id[:12]}"
                from stridelab.present.splits import split_columns, split_rows
                from stridelab.services.splits import run_splits

                tables = []
                per_distance = ("mi", "Miles") if units == "imperial" else ("km", "Kilometres")
                for by, name in (("lap", "Laps"), per_distance):
                    t = run_splits(st, athlete, row.id, by=by)  # type: ignore[arg-type]
                    tables.append((name, split_columns(t, units=units), split_rows(t, units=units)))
                html = render_run_html(
                    analysis,
                    ref,
                    title="Running dynamics report",
                    subtitle=subtitle,
                    splits=tables,
                    units=units,
                )
                if png_dir is not None:
                    save_run_pngs(analysis, png_dir, ref, stem=row.id[:12])
            path = write_html(html, output)
        except (StoreError, KeyError) as exc:
            raise fail(str(exc)) from exc
        except OSError as exc:
            raise fail(f"Cannot write {output}: {exc.strerror or exc}") from exc
        err_console.print(f"wrote {esc(path)} ({path.stat().st_size / 1e6:.1f} MB)")
