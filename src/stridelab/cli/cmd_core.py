"""Core commands: ``import``, ``runs``, ``show``, ``export``, ``demo``."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

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
)
from stridelab.cli._table import FastTable
from stridelab.lazy import lazy_module
from stridelab.present import format as pfmt
from stridelab.present.runs import run_item_json, show_json
from stridelab.present.text import markup as esc
from stridelab.present.text import plain
from stridelab.services import Store, StoreError
from stridelab.services import duplicates as duplicates_service
from stridelab.services import runs as runs_service
from stridelab.services.memory import budget_from_env
from stridelab.services.runs import ActivityRow

if TYPE_CHECKING:
    from stridelab.services.imports import ImportResult

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = ["register", "show_payload"]


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


def _tags(store: Store, athlete: str, ids: list[str]) -> dict[str, list[str]]:
    return runs_service.run_tags(store, athlete, ids)


def show_payload(row: ActivityRow, store: Store) -> dict[str, Any]:
    """The ``show --json`` object (presentation units in the dynamics keys)."""
    n_laps = runs_service.lap_count(store, row.athlete, row.id)
    linked = duplicates_service.duplicate_info(store, row.athlete, row.id)
    return show_json(
        row,
        n_laps,
        _tags(store, row.athlete, [row.id]).get(row.id, []),
        duplicates=linked.duplicates,
        duplicate_of=linked.duplicate_of,
    )


def _print_result_table(result: ImportResult) -> None:
    table = Table(title="import", show_lines=False)
    table.add_column("result")
    table.add_column("files", justify="right")
    table.add_row("imported", str(len(result.imported)), style="green")
    if result.warnings:
        table.add_row("  of which damaged", str(len(result.warnings)), style="yellow")
    if result.notes:
        table.add_row("  of which with notes", str(len(result.notes)))
    table.add_row("already present", str(len(result.skipped)))
    if result.not_activities:
        table.add_row("skipped: not an activity", str(len(result.not_activities)), style="dim")
    table.add_row("failed", str(len(result.failed)), style="red" if result.failed else None)
    if result.ignored:
        table.add_row("ignored (not FIT)", str(len(result.ignored)), style="dim")
    console.print(table)
    if result.failed:
        fails = Table(title="failed files", show_lines=False)
        fails.add_column("file", overflow="fold")
        fails.add_column("reason", overflow="fold")
        for path, reason in result.failed:
            fails.add_row(esc(path), esc(reason))
        console.print(fails)
    if result.not_activities:
        _print_not_activities(result.not_activities)
    if result.warnings:
        warn = Table(title="imported with warnings (damaged files: what precedes each fault was kept)")
        warn.add_column("file", overflow="fold")
        warn.add_column("problem", overflow="fold")
        for path, text in result.warnings:
            warn.add_row(esc(path), esc(text), style="yellow")
        console.print(warn)
    if result.notes:
        notes = Table(title="imported with notes (sound files)")
        notes.add_column("file", overflow="fold")
        notes.add_column("note", overflow="fold")
        for path, text in result.notes:
            notes.add_row(esc(path), esc(text))
        console.print(notes)
    if result.link_warning:
        console.print(Text("warning: " + result.link_warning, style="yellow"))
    n = len(result.imported) + len(result.skipped) + len(result.failed) + len(result.not_activities)
    rate = n / result.seconds if result.seconds > 0 else float("nan")
    console.print(f"{n} files in {result.seconds:.1f} s ({rate:.0f} files/s)")


#: up to this many non-activity files are listed one by one; more are counted by reason
_LIST_NOT_ACTIVITIES = 20


def _print_not_activities(skipped: list[tuple[str, str]]) -> None:
    """Files that hold no activity by design (FIT settings, monitoring...): not failures."""
    table = Table(title="skipped (not activities)", show_lines=False)
    if len(skipped) <= _LIST_NOT_ACTIVITIES:
        table.add_column("file", overflow="fold")
        table.add_column("reason", overflow="fold")
        for path, reason in skipped:
            table.add_row(esc(path), f"skipped: {esc(reason)}", style="dim")
    else:  # an account export holds thousands (monitoring, sleep...): count them by reason
        table.add_column("reason", overflow="fold")
        table.add_column("files", justify="right")
        counts: dict[str, int] = {}
        for _, reason in skipped:
            counts[reason] = counts.get(reason, 0) + 1
        for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(f"skipped: {esc(reason)}", str(n), style="dim")
    console.print(table)


def run_import(
    store: Store,
    paths: list[Path],
    athlete: str,
    *,
    as_json: bool,
    workers: int | None,
    keep_duplicates: bool = False,
    memory_budget: int | None = None,
) -> ImportResult:

    from stridelab.services.import_unchanged import unchanged_import

    unchanged = unchanged_import(store, paths, athlete=athlete)  # stat + SQLite only
    if unchanged is not None:  # every file imported before, unchanged: no reader, pandas or pyarrow
        return unchanged
    from stridelab.services.imports import import_paths  # lazy: the readers load only to import

    if as_json or not console.is_terminal:
        result = import_paths(
            store,
            paths,
            athlete=athlete,
            workers=workers,
            keep_duplicates=keep_duplicates,
            memory_budget=memory_budget,
        )
    else:
        from rich.progress import (  # lazy: only an import on a terminal shows it (~20 ms to import)
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task("importing", total=None, rate="-", count="")
            t0 = time.perf_counter()
            reading: dict[str, tuple[Any, float]] = {}  # path -> (task, start) of a large file being read

            def _tick(done: int, total: int, _path: str) -> None:
                dt = time.perf_counter() - t0
                rate = f"{done / dt:.0f} files/s" if dt > 0 else "-"
                bar.update(task, completed=done, total=total, rate=rate, count=f"{done}/{total}")

            def _bytes(path: str, done: int, total: int) -> None:
                """Progress inside one large file (an Apple Health export): bytes read, both passes."""
                if path not in reading:
                    name = escape(Path(path.replace("!", "/")).name)[:40]
                    reading[path] = (
                        bar.add_task(f"reading {name}", total=total, rate="-", count=""),
                        time.perf_counter(),
                    )
                sub, start = reading[path]
                dt = time.perf_counter() - start
                rate = f"{done / dt / 1e6:.0f} MB/s" if dt > 0 else "-"
                count = f"{done / 1e6:.0f}/{total / 1e6:.0f} MB"
                bar.update(sub, completed=done, total=total, rate=rate, count=count)

            result = import_paths(
                store,
                paths,
                athlete=athlete,
                workers=workers,
                progress=_tick,
                keep_duplicates=keep_duplicates,
                file_progress=_bytes,
                memory_budget=memory_budget,
            )
    return result


#: the summary values the listing shows (``_runs_table``, ``run_item_json``)
_LISTED_SUMMARY_KEYS: tuple[str, ...] = ("stance_time_s_mean", "stance_time_balance_left_pct_mean")


def _runs_table(
    rows: list[ActivityRow],
    title: str = "runs",
    tags: dict[str, list[str]] | None = None,
    *,
    units: str = "metric",
) -> FastTable:
    """Plain-text cells (FastTable never reads markup): text from files goes through ``plain()``."""
    table = FastTable(title)
    tagged = tags is not None and any(tags.values())  # once, not per row (2,000 rows x 2,000 tags)
    for col, justify in (
        ("id", "left"),
        ("date (local)", "left"),
        ("sport", "left"),
        ("distance", "right"),
        ("time", "right"),
        ("pace / speed", "right"),
        ("GCT", "right"),
        ("balance (L)", "right"),
        *((("tags", "left"),) if tagged else ()),
    ):
        table.add_column(col, justify=justify, no_wrap=True)
    for r in rows:
        s = r.summary
        gct = s.get("stance_time_s_mean")
        bal = s.get("stance_time_balance_left_pct_mean")
        speed = (r.distance_m / r.duration_s) if r.distance_m and r.duration_s else None
        table.add_row(
            r.id[:8],
            pfmt.local_day_time(r.start_utc, utc_offset_s=r.utc_offset_s)
            if r.time_absolute
            else "no absolute time",
            plain(r.sport or "-"),
            (
                pfmt.num(r.distance_m / 1609.344, 2, "mi", sep=" ")
                if units == "imperial"
                else pfmt.num(r.distance_m / 1000, 2, "km", sep=" ")
            )
            if r.distance_m
            else "-",
            pfmt.duration(r.duration_s, missing="-", always_hours=True),
            pfmt.sport_speed(speed, r.sport, units=units, missing="-"),
            pfmt.num(gct * 1000, 0, "ms", sep=" ") if gct else "-",
            pfmt.num(bal, 1, "%", sep=" ") if bal else "-",
            *((plain(", ".join(tags.get(r.id, []))),) if tags and tagged else ()),
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_cmd(
        paths: list[Path] = typer.Argument(
            ...,
            help="FIT files, folders (recursive), .zip exports (Strava, Garmin Connect), .fit.gz.",
        ),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
        workers: int | None = typer.Option(
            None, "--workers", min=1, help="Decoder processes (default: cores)."
        ),
        keep_duplicates: bool = typer.Option(
            False,
            "--keep-duplicates",
            help="Do not link these activities to the same activity from another source (each stays a run).",
        ),
        max_memory_mb: int | None = typer.Option(
            None,
            "--max-memory",
            min=256,
            help="Memory budget of each import process in MB (default: $STRIDELAB_MAX_MEMORY_MB, else 600): "
            "a file whose decoding would exceed it is refused.",
        ),
        cluster: str | None = typer.Option(
            None, "--cluster", help="Import in batches on Dask: local:N (a local cluster) or tcp://HOST:8786."
        ),
        athlete_from: str | None = typer.Option(
            None, "--athlete-from", help="Athlete of each file: folder (first folder) or csv:MAPPING."
        ),
        dataset: str | None = typer.Option(
            None,
            "--dataset",
            help="Root of the Parquet datasets of a batch import (default: STORE/datasets).",
        ),
    ) -> None:
        """Import activities; re-importing is near-instant (content-hash de-duplication).

        Exit code 0 when every file was imported intact, already present or skipped as not an
        activity (FIT settings, monitoring, workout... files); 1 when any file failed or was damaged
        (imported up to the fault, listed under warnings); 2 for a usage error (a bad option, a path
        that does not exist: nothing is imported).

        The same activity from several sources (a watch FIT, a Strava re-export, Apple Health: time
        spans >= 90 % in common, same sport) is listed once: the richest source is the run, the others
        are linked to it as duplicates (see show), unless --keep-duplicates.
        """
        missing = [p for p in paths if not p.expanduser().exists()]
        if missing:
            raise fail(f"{missing[0]}: no such file or directory (nothing was imported)")
        try:
            budget = max_memory_mb * 1024 * 1024 if max_memory_mb is not None else budget_from_env()
        except ValueError as exc:
            raise fail(str(exc)) from None
        st = open_store(store)
        if cluster is not None or athlete_from is not None or dataset is not None:
            from stridelab.cli.cmd_scale import run_scale_import  # lazy: the batch import (docs/scale.md)

            run_scale_import(st, paths, athlete, cluster, athlete_from, dataset, workers, as_json=as_json)
        result = run_import(
            st,
            paths,
            athlete,
            as_json=as_json,
            workers=workers,
            keep_duplicates=keep_duplicates,
            memory_budget=budget,
        )
        linked = duplicates_service.primaries_of(st, athlete, [i for _, i in result.imported])
        if as_json:
            print_json(
                {
                    **result.to_json(),
                    "linked": [{"id": d, "duplicate_of": p} for d, p in sorted(linked.items())],
                }
            )
        else:
            _print_result_table(result)
            if linked:
                console.print(
                    f"{len(linked)} imported activities are the same as another source's and are "
                    "listed once (see stridelab show ID; --keep-duplicates keeps them apart)"
                )
        raise typer.Exit(result.exit_code)

    @app.command("runs")
    def runs_cmd(
        since: str | None = typer.Option(None, "--since", help="Only runs on/after this date (YYYY-MM-DD)."),
        until: str | None = typer.Option(None, "--until", help="Only runs before this date (YYYY-MM-DD)."),
        sport: str | None = typer.Option(None, "--sport", help="Only this sport (e.g. running)."),
        units: str = typer.Option("metric", "--units", help="metric or imperial (mi, min/mi, mph)."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """List imported activities."""
        if units not in ("metric", "imperial"):
            raise fail(
                f"Invalid value for '--units'. Allowed values are 'metric', 'imperial', but got {units!r}."
            )
        st = open_store(store)
        rows = runs_service.list_runs(
            st,
            athlete,
            since=_parse_date(since, "--since"),
            until=_parse_date(until, "--until"),
            sport=sport,
            include_undated=since is None and until is None,
            summary_keys=_LISTED_SUMMARY_KEYS,  # not every run's whole summary
        )
        rows.sort(key=lambda r: not r.time_absolute)  # runs with no absolute time last: not dates
        tags = _tags(st, athlete, [r.id for r in rows])
        if as_json:
            dups = duplicates_service.duplicates_by_primary(st, athlete)
            print_json([run_item_json(r, tags.get(r.id, []), dups.get(r.id, [])) for r in rows])
            return
        if not rows:
            console.print("No activities yet. Try [bold]stridelab demo[/] or [bold]stridelab import PATH[/].")
            return
        _runs_table(rows, tags=tags, units=units).print(console)

    @app.command("show")
    def show_cmd(
        run_id: str = typer.Argument(..., help="Run id (an unambiguous prefix is enough)."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
        units: str = UnitsOpt,
    ) -> None:
        """Summary and running-dynamics means of one run."""
        st = open_store(store)
        row = _activity(st, athlete, run_id)
        payload = show_payload(row, st)
        if as_json:
            print_json(payload)
            return
        table = Table(title=f"run {row.id[:12]}", show_header=False)
        table.add_column("field")
        table.add_column("value")
        if row.time_absolute:
            local = pfmt.local_day_time(row.start_utc, utc_offset_s=row.utc_offset_s)
            utc = f"{row.start_utc:%H:%M} UTC"
            where = "the file's local time" if row.utc_offset_s is not None else "this machine's zone"
            shown = local if local.endswith("UTC") else f"{local} ({utc})"
            table.add_row("start", f"{shown}, {where}")
        else:
            table.add_row("start", "no absolute time (the file counts from the device's power-on)")
        if payload["name"]:
            table.add_row("name", esc(payload["name"]))
        table.add_row("sport", esc(f"{row.sport or '-'} / {row.sub_sport or '-'}"))
        if payload["gear"]:
            table.add_row("gear", esc(payload["gear"]))
        table.add_row("device", esc(f"{row.manufacturer or '-'} {row.product or ''}"))
        table.add_row(
            "distance", pfmt.km(row.distance_m, units=units, missing="-") if row.distance_m else "-"
        )
        if row.distance_m and row.duration_s:
            speed = row.distance_m / row.duration_s
            table.add_row("average speed", pfmt.sport_speed(speed, row.sport, units=units, missing="-"))
        table.add_row("timer time", pfmt.duration(row.duration_s, missing="-", always_hours=True))
        table.add_row("records / laps", f"{row.n_records} / {payload['n_laps']}")
        table.add_row("source", esc(row.source_path))
        if payload["problems"]:
            table.add_row("damaged file", esc("; ".join(payload["problems"])), style="yellow")
        if payload["notes"]:
            table.add_row("notes", esc("; ".join(payload["notes"])))
        if payload["tags"]:
            table.add_row("tags", esc(", ".join(payload["tags"])))
        if payload["duplicate_of"]:
            p = payload["duplicate_of"]
            primary = f"{p['id'][:12]} ({p['format']}, {p['source_path']}): {p['reason']}"
            table.add_row("duplicate of", esc(primary), style="yellow")
        for i, dup in enumerate(payload["duplicates"]):
            has = ", ".join(dup["has"]) or "no dynamics, power, heart rate or GPS"
            table.add_row(
                "duplicates" if i == 0 else "",
                esc(f"{dup['id'][:12]} {dup['format']} {dup['source_path']} (has {has}): {dup['reason']}"),
            )
        d = payload["dynamics"]
        labels = {
            "stance_time_ms_mean": ("ground contact time", "ms", 0),
            "stance_time_balance_left_pct_mean": ("GCT balance (left share)", "% L", 2),
            "vertical_oscillation_mm_mean": ("vertical oscillation", "mm", 1),
            "vertical_ratio_pct_mean": ("vertical ratio", "%", 2),
            "step_length_mm_mean": (
                "step length",
                "in" if units == "imperial" else "mm",
                1 if units == "imperial" else 0,
            ),
            "cadence_spm_mean": ("cadence", "spm", 1),
            "stance_time_pct_mean": ("GCT % of step", "%", 1),
        }
        for key, (label, unit, nd) in labels.items():
            v = d.get(key)
            if unit == "in" and pfmt.is_finite(v):
                v = float(v) / 25.4
            table.add_row(label, pfmt.num(v, nd, unit, sep=" ", missing="-"))
        for col, info in payload["developer_fields"].items():
            v = info["mean"]
            table.add_row(
                esc(f"{info['app']}: {info['field_name']}"),
                esc(f"{pfmt.dev_value(col, v)} ({col})") if v is not None else "-",
            )
        console.print(table)

    @app.command("export")
    def export_cmd(
        run_id: str = typer.Argument(..., help="Run id (prefix)."),
        fmt: str | None = typer.Option(
            None,
            "--format",
            help="csv, parquet, fit, tcx or gpx (default: from the -o suffix, else csv).",
        ),
        output: Path = typer.Option(..., "-o", "--output", help="Output file."),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
    ) -> None:
        """Export a run: its records (csv/parquet, SI units, canonical column names) or the run as a
        FIT, TCX or GPX file for other tools."""
        formats = runs_service.EXPORT_FORMATS
        if fmt is None:
            suffix = output.suffix.lower().lstrip(".")
            fmt = "parquet" if suffix == "pq" else suffix if suffix in formats else "csv"
        fmt = fmt.lower()
        if fmt not in formats:
            allowed = ", ".join(repr(f) for f in formats)
            raise fail(f"Invalid value for '--format': allowed values are {allowed}, but got {fmt!r}")
        st = open_store(store)
        row = _activity(st, athlete, run_id)
        try:
            n = runs_service.export_run(st, athlete, row.id, output, fmt)
        except StoreError as exc:
            raise fail(str(exc)) from exc
        except ValueError as exc:
            raise fail(str(exc), code=1) from exc
        except OSError as exc:
            raise fail(f"cannot write {output}: {exc.strerror or exc}") from exc
        if fmt == "gpx":
            note = " (the run has no GPS positions: the track is empty)" if n == 0 else ""
            err_console.print(f"wrote {n} track points to {esc(output)}{note}")
        else:
            err_console.print(f"wrote {n} records to {esc(output)}")

    @app.command("demo")
    def demo_cmd(
        n_runs: int = typer.Option(60, "--runs", min=1, max=500, help="Runs in the generated season."),
        seed: int = typer.Option(7, "--seed", help="Random seed of the synthetic season."),
        end_date: datetime | None = typer.Option(
            None,
            "--end-date",
            formats=["%Y-%m-%d"],
            help="Last day of the season (default: yesterday), so the demo is recent; fixed for tests.",
        ),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Generate a synthetic season (13 weeks ending yesterday), import it and show the runs. Offline."""
        from stridelab.services import demo  # lazy: the simulator is heavy to import

        st = open_store(store)
        if not as_json:
            console.print(f"Generating a synthetic season of {n_runs} runs (seed {seed}) ...")
        end = end_date.date() if end_date else None
        with demo.generated_season(n_runs=n_runs, seed=seed, end_date=end) as season:
            # the FIT files only: the truth sidecars beside them are not for the store
            result = run_import(st, list(season.paths), athlete, as_json=as_json, workers=None)
        rows = st.list_activities(athlete)
        if as_json:
            print_json(
                {
                    "generated": len(season.paths),
                    "season_start": season.start.isoformat(),
                    "season_end": season.end.isoformat(),
                    "store": str(st.root),
                    **result.to_json(),
                }
            )
        else:
            console.print(
                f"generated {len(season.paths)} FIT files ({season.start} to {season.end}) "
                f"in {season.seconds:.1f} s"
            )
            _print_result_table(result)
            console.print(_runs_table(rows, title=f"runs in {plain(str(st.root))} (athlete {athlete})"))
            bal = [r.summary.get("stance_time_balance_left_pct_mean") for r in rows]
            known = [b for b in bal if b is not None]
            if known:
                console.print(
                    f"mean GCT balance over {len(known)} runs: {sum(known) / len(known):.2f} % left "
                    f"(range {min(known):.2f}-{max(known):.2f})"
                )
            console.print(
                "Next: [bold]stridelab status[/], [bold]stridelab show <id>[/], [bold]stridelab runs[/]"
            )
        raise typer.Exit(result.exit_code)


def _activity(st: Store, athlete: str, run_id: str) -> ActivityRow:
    try:
        return runs_service.get_run(st, athlete, run_id)
    except StoreError as exc:
        raise fail(str(exc)) from exc
