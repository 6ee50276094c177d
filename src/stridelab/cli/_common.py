"""Options and helpers shared by every command module."""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from stridelab.jsonsafe import dumps
from stridelab.present.text import markup, plain
from stridelab.services import Store, StoreError, check_athlete
from stridelab.services import open_store as _open_store

__all__ = [
    "AthleteOpt",
    "JsonErrorsGroup",
    "JsonOpt",
    "StoreOpt",
    "console",
    "err_console",
    "fail",
    "json_errors",
    "open_store",
    "print_error",
    "print_json",
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


#: set while a command line with ``--json`` runs: errors are then JSON objects on stdout
_JSON_ERRORS: contextvars.ContextVar[bool] = contextvars.ContextVar("stridelab_json_errors", default=False)


def json_errors() -> bool:
    """Whether the running command was given ``--json`` (its errors are JSON objects)."""
    return _JSON_ERRORS.get()


def _error_code(exit_code: int) -> str:
    return "bad_input" if exit_code == 2 else "failed"


def print_error(message: str, code: str) -> None:
    """One error, shaped for who reads it: under ``--json`` the object
    ``{"error": {"code": code, "message": message}}`` on stdout, else a red line on stderr. The message
    (it often holds a path or a name from a file) is escaped for the terminal either way."""
    if json_errors():
        print_json({"error": {"code": code, "message": plain(message)}})
    else:
        err_console.print(f"[bold red]error:[/] {markup(message)}")


def fail(message: str, code: int = 2, *, error: str | None = None) -> typer.Exit:
    """Print a clear error (:func:`print_error`; ``error`` is its machine-readable code, by default
    ``bad_input`` for exit code 2 and ``failed`` otherwise) and return an Exit to raise."""
    print_error(message, error or _error_code(code))
    return typer.Exit(code)


class JsonErrorsGroup(TyperGroup):
    """The root command group: when the command line holds ``--json``, every error -- a usage error
    found while parsing, a :func:`fail`, an abort, an unexpected exception -- is printed as a JSON
    object (:func:`print_error`) instead of text or a traceback; the exit codes stay the same."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if "--json" not in argv:
            return super().main(args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)
        token = _JSON_ERRORS.set(True)
        try:
            try:
                rv = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
                code = rv if isinstance(rv, int) else 0
            except typer.Exit as exc:
                code = exc.exit_code
            except (typer.Abort, KeyboardInterrupt):
                print_error("aborted", "aborted")
                code = 1
            except typer.TyperException as exc:  # a usage error (bad option, missing argument...)
                format_message = getattr(exc, "format_message", None)
                print_error(format_message() if format_message else str(exc), "usage_error")
                code = int(getattr(exc, "exit_code", 2))
            except Exception as exc:  # a defect: still one JSON object, never a traceback on stdout
                print_error(f"{type(exc).__name__}: {exc}", "internal_error")
                code = 1
        finally:
            _JSON_ERRORS.reset(token)
        if standalone_mode:
            sys.exit(code)
        return code
