"""Scale commands (docs/scale.md): ``cohort``, and the batch path of ``import`` (``--cluster``,
``--athlete-from``, ``--dataset``), whose option parsing stays in ``cmd_core``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stridelab.cli._common import JsonOpt, StoreOpt, console, err_console, fail, open_store, print_json
from stridelab.present.text import markup as esc
from stridelab.services import Store, StoreError


def _num(x: float | None, digits: int = 1, signed: bool = False) -> str:
    if x is None:
        return "-"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def run_scale_import(
    store: Store,
    paths: list[Path],
    athlete: str,
    cluster: str | None,
    athlete_from: str | None,
    dataset: str | None,
    workers: int | None,
    *,
    as_json: bool,
) -> None:
    """Import ``paths`` in batches (``--cluster``/``--athlete-from``/``--dataset``); exits."""
    from stridelab.scale import ClusterError, DatasetRootError, scale_import  # lazy: Dask with --cluster

    def waiting(message: str) -> None:
        err_console.print(f"[yellow]{esc(message)}[/yellow]", soft_wrap=True)  # stderr: JSON stays clean

    try:
        result = scale_import(
            store,
            paths,
            athlete=athlete,
            athlete_from=athlete_from,
            cluster=cluster,
            workers=workers,
            dataset_root=dataset,
            on_wait=waiting,
        )
    except (ClusterError, ValueError, StoreError) as exc:
        raise fail(str(exc)) from None
    except DatasetRootError as exc:
        imported = exc.result.count("imported") if exc.result is not None else 0
        raise fail(
            f"{exc.strerror}; {imported} runs were imported whole before it (the catalog holds exactly "
            "those); make room or fix the permissions and run the same command again to import the rest",
            1,
        ) from None
    except OSError as exc:
        raise fail(f"the dataset root cannot be written: {exc}", 1) from None
    data = result.to_json()
    if as_json:
        print_json(data)
    else:
        table = Table(title=f"batch import ({esc(cluster or 'process pool')})")
        table.add_column("outcome")
        table.add_column("files", justify="right")
        for key in ("imported", "skipped", "not_activity"):
            table.add_row(key.replace("_", " "), str(data[key]))
        table.add_row("failed", str(len(data["failed"])))
        console.print(table)
        for item in data["failed"]:
            console.print(f"[red]failed[/red] {esc(str(item['error']))}")
        console.print(f"{data['batches']} batches, {data['retried']} retried")
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    @app.command("cohort")
    def cohort_cmd(
        store: Path | None = StoreOpt,
        dataset: str | None = typer.Option(
            None, "--dataset", help="Root of the Parquet datasets (default: STORE/datasets)."
        ),
        as_json: bool = JsonOpt,
    ) -> None:
        """Every athlete of the Parquet datasets: pace-adjusted balance, trend, drift, plan adherence, flags.

        Balance is the LEFT foot's share of ground contact time (%), adjusted to 5:00 min/km over the
        athlete's runs; the trend is per 30 days with its 95 % interval; the drift is the last 28 days
        against the runs before them; plan adherence is the athlete's active plan (sessions done, partial
        ones half, of those due up to today). One DuckDB query over the summaries dataset.
        """
        from stridelab.scale import cohort  # lazy: DuckDB and scipy

        opened = open_store(store)
        root = dataset if dataset is not None else str(opened.root / "datasets")
        try:
            rows = cohort(root, store=opened)
        except (FileNotFoundError, ValueError) as exc:
            raise fail(str(exc)) from None
        if as_json:
            print_json({"dataset": root, "athletes": [r.to_json() for r in rows]})
            return
        table = Table(title="cohort: GCT balance (% left)")
        for col, justify in (
            ("athlete", "left"),
            ("runs", "right"),
            ("balance", "right"),
            ("at 5:00/km", "right"),
            ("trend /30 d (95 %)", "right"),
            ("drift", "right"),
            ("plan adherence", "right"),
            ("flags", "left"),
        ):
            table.add_column(col, justify=justify)  # type: ignore[arg-type]
        for r in rows:
            trend = _num(r.trend_pct_per_30d, 2, True)
            if r.trend_low is not None and r.trend_high is not None:
                trend += f" ({r.trend_low:+.2f} .. {r.trend_high:+.2f})"
            table.add_row(
                esc(r.athlete),
                str(r.n_runs),
                _num(r.balance_mean_pct),
                _num(r.balance_adjusted_pct),
                trend,
                _num(r.drift_pct, 1, True),
                f"{r.adherence_pct:.0f} % of {r.sessions_due}" if r.adherence_pct is not None else "-",
                esc(", ".join(r.flags)),
            )
        console.print(table)
