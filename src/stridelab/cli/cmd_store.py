"""Store care: ``doctor`` (health check and repair), ``backup PATH`` and ``restore PATH``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from stridelab.cli._common import JsonOpt, StoreOpt, console, err_console, fail, open_store, print_json
from stridelab.present import format as pfmt
from stridelab.present.text import markup as esc
from stridelab.services import StoreError, default_store_path

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor_cmd(
        fix: bool = typer.Option(
            False,
            "--fix",
            help="Repair what can be: remove leftovers, derive old runs again, retry failed files.",
        ),
        store: Path | None = StoreOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Check the store: catalog integrity, every stream, leftovers of interrupted writes, runs
        derived by an older version, files that failed with an older decoder.

        Exit code 0 when the store is healthy, 1 when problems were found (each says whether it was
        fixed; without --fix nothing is changed), 2 for a usage error."""
        from stridelab.services.doctor import run_doctor  # lazy: the import pipeline is heavy

        st = open_store(store)
        try:
            report = run_doctor(st, fix=fix)
        except StoreError as exc:
            raise fail(str(exc), code=1, error="store_error") from exc
        if as_json:
            print_json(report.to_json())
            raise typer.Exit(report.exit_code)
        if report.healthy:
            console.print(
                f"store {esc(st.root)}: healthy ({report.runs} runs, their streams and the catalog checked)"
            )
            raise typer.Exit(0)
        table = Table(title=f"doctor: {esc(st.root)}")
        for col in ("problem", "where", "detail", "fixed"):
            table.add_column(col, overflow="fold")
        for f in report.findings:
            state = "-" if f.fixed is None else "yes" if f.fixed else "NO"
            style = None if f.fixed else "yellow"
            table.add_row(f.kind.replace("_", " "), esc(f.what), esc(f.detail), state, style=style)
        console.print(table)
        n_fixed = sum(1 for f in report.findings if f.fixed)
        if fix:
            console.print(
                f"{len(report.findings)} problem(s): {n_fixed} fixed, {len(report.unfixed)} not fixed"
            )
        else:
            console.print(
                f"{len(report.findings)} problem(s) found; stridelab doctor --fix repairs what it can"
            )
        raise typer.Exit(report.exit_code)

    @app.command("backup")
    def backup_cmd(
        path: Path = typer.Argument(..., help="Folder to write the backup to (must not exist or be empty)."),
        store: Path | None = StoreOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Back up the store to a folder: a consistent snapshot (safe while the dashboard or an import
        is writing) with a checksum manifest that restore verifies."""
        from stridelab.services.backup import backup_store

        st = open_store(store)
        try:
            result = backup_store(st, path)
        except StoreError as exc:
            raise fail(str(exc), code=1, error="backup_failed") from exc
        if as_json:
            print_json(result.to_json())
            return
        err_console.print(
            f"backed up {result.runs} runs ({result.streams} streams, "
            f"{pfmt.num(result.bytes / 1e6, 1, 'MB', sep=' ')}) to {esc(result.path)}"
        )

    @app.command("restore")
    def restore_cmd(
        path: Path = typer.Argument(..., help="Backup folder written by stridelab backup."),
        store: Path | None = StoreOpt,
        force: bool = typer.Option(False, "--force", help="Replace a store that is not empty."),
        as_json: bool = JsonOpt,
    ) -> None:
        """Restore a backup as the store, after verifying every checksum and the catalog's integrity.
        The swap is atomic (the store is the old one or the restored one, never a mix); a store that
        is not empty is replaced only with --force."""
        from stridelab.services.backup import restore_store

        target = store.expanduser() if store is not None else default_store_path()
        try:
            result = restore_store(path, target, force=force)
        except StoreError as exc:
            raise fail(str(exc), code=1, error="restore_failed") from exc
        if as_json:
            print_json(result.to_json())
            return
        err_console.print(
            f"restored {result.runs} runs ({result.streams} streams) to {esc(result.path)}"
            + (" (the previous store was replaced)" if result.replaced else "")
        )
