"""Options and helpers shared by every command module."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from stridelab.cli._errors import JsonErrorsGroup, json_errors, print_error
from stridelab.jsonsafe import dumps
from stridelab.services import Store, StoreError, check_athlete
from stridelab.services import open_store as _open_store

__all__ = [
    "AthleteOpt",
    "JsonErrorsGroup",
    "JsonOpt",
    "StoreOpt",
    "UnitsOpt",
    "console",
    "err_console",
    "fail",
    "json_errors",
    "open_store",
    "print_error",
    "print_json",
    "progress_bar",
]

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)

StoreOpt = typer.Option(
    None, "--store", envvar="STRIDELAB_STORE", help="Store directory (default: the user data dir)."
)


def _athlete(value: str) -> str:
    try:
        return check_athlete(value)
    except StoreError as exc:
        raise typer.BadParameter(str(exc)) from exc


AthleteOpt = typer.Option("me", "--athlete", help="Athlete the data belongs to.", callback=_athlete)
JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON on stdout.")


def _units(value: str) -> str:
    if value not in ("metric", "imperial"):
        raise typer.BadParameter(f"expected 'metric' or 'imperial', got {value!r}")
    return value


#: the display unit system (SI inside; only the printed paces and distances change)
UnitsOpt = typer.Option("metric", "--units", help="metric or imperial (mi, min/mi, mph).", callback=_units)


def open_store(store: Path | None) -> Store:
    """Open (creating if needed) the store at ``store`` or the default location; a store that cannot
    be opened is a clear one-line error (exit code 2), never a traceback."""
    try:
        return _open_store(store)
    except StoreError as exc:
        raise fail(str(exc)) from exc


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (NaN becomes null)."""
    sys.stdout.write(dumps(obj, indent=2) + "\n")
    sys.stdout.flush()


def _error_code(exit_code: int) -> str:
    return "bad_input" if exit_code == 2 else "failed"


def fail(message: str, code: int = 2, *, error: str | None = None) -> typer.Exit:
    """Print a clear error (:func:`print_error`; ``error`` is its machine-readable code, by default
    ``bad_input`` for exit code 2 and ``failed`` otherwise) and return an Exit to raise."""
    print_error(message, error or _error_code(code))
    return typer.Exit(code)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback for the services: a Rich progress bar on stderr (so
    ``--json`` stays clean) that appears with the first step, on a terminal only, and vanishes when done.
    """
    bar: Any = None  # a rich.progress.Progress, imported with the first step shown
    task: Any = None

    def tick(done: int, total: int) -> None:
        nonlocal bar, task
        if not err_console.is_terminal:
            return
        if bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            bar = Progress(
                TextColumn(f"[bold]{label}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done, total=total)

    try:
        yield tick
    finally:
        if bar is not None:
            bar.stop()
