"""Errors shaped for who reads them, light enough for the root command group.

The root group (:class:`JsonErrorsGroup`) is built before any command module is imported (``--help``
and ``--version`` import none of them), so this module imports no pandas, store or cores: the
escaping helpers and the Rich console load only when an error is printed.
"""

from __future__ import annotations

import contextvars
import json
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

__all__ = ["JsonErrorsGroup", "json_errors", "print_error"]

#: set while a command line with ``--json`` runs: errors are then JSON objects on stdout
_JSON_ERRORS: contextvars.ContextVar[bool] = contextvars.ContextVar("stridelab_json_errors", default=False)


def json_errors() -> bool:
    """Whether the running command was given ``--json`` (its errors are JSON objects)."""
    return _JSON_ERRORS.get()


def print_error(message: str, code: str) -> None:
    """One error, shaped for who reads it: under ``--json`` the object
    ``{"error": {"code": code, "message": message}}`` on stdout, else a red line on stderr. The message
    (it often holds a path or a name from a file) is escaped for the terminal either way."""
    from stridelab.present.text import markup, plain

    if json_errors():
        sys.stdout.write(json.dumps({"error": {"code": code, "message": plain(message)}}, indent=2) + "\n")
        sys.stdout.flush()
    else:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {markup(message)}")


class JsonErrorsGroup(TyperGroup):
    """The root command group: when the command line holds ``--json``, every error -- a usage error
    found while parsing, a ``fail()``, an abort, an unexpected exception -- is printed as a JSON
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
            except Exception as exc:
                format_message = getattr(exc, "format_message", None)
                if callable(format_message) and hasattr(exc, "exit_code"):
                    # a usage error (bad option, missing argument...): click's ClickException, which
                    # newer typer re-exports as TyperException, typer 0.26 (our floor) does not
                    print_error(format_message(), "usage_error")
                    code = int(exc.exit_code)
                else:  # a defect: still one JSON object, never a traceback on stdout
                    print_error(f"{type(exc).__name__}: {exc}", "internal_error")
                    code = 1
        finally:
            _JSON_ERRORS.reset(token)
        if standalone_mode:
            sys.exit(code)
        return code
