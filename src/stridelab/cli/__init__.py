"""The ``stridelab`` command line (Typer + Rich).

Each area registers its commands in a ``cmd_<area>.py`` module of this package exposing
``register(app: typer.Typer) -> None``; they are discovered here, so areas never edit one shared file.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

from stridelab.cli._common import JsonErrorsGroup
from stridelab.version import __version__

__all__ = ["app", "main"]

app = typer.Typer(
    name="stridelab",
    help="Gait-and-balance lab for runners: import, analyse, train.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=JsonErrorsGroup,  # --json: errors are JSON objects too
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"stridelab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Gait-and-balance lab for runners."""


def _register_all() -> None:
    # the core commands (import, runs, show, export, demo) first in --help, then areas by name
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: (m.name != "cmd_core", m.name)):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    app()
