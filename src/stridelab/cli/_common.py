"""Options and helpers shared by every command module."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from stridelab.jsonsafe import dumps
from stridelab.services import Store, StoreError, check_athlete
from stridelab.services import open_store as _open_store

__all__ = ["AthleteOpt", "JsonOpt", "StoreOpt", "console", "err_console", "fail", "open_store", "print_json"]

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


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a clear error on stderr and return an Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)
