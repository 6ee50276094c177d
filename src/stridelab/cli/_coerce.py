"""Typer's parameter coercion for the plain cases, without importing pydantic.

Typer (>= 0.2x) coerces every command-line value through a pydantic ``TypeAdapter`` built on first
use: importing pydantic and building the adapters costs ~0.12 s of CPU in every command, a third of a
warm read command. Almost every value our commands take is a plain ``str``, ``int``, ``float`` or
``pathlib.Path`` written in the obvious way ("12", "2.5", "~/store"). :func:`install` gives each such
parameter a :class:`PlainCoercion`: it answers those plain forms itself -- exactly what typer's adapter
answers for them (``tests/cli/test_cli_coerce.py`` compares both on generated values) -- and hands
anything else (a "+5", "1e3", a value out of range, a list, a datetime, a parser) to typer's own
coercion, built only then. Typer's None and multi-value handling (``RuntimeParam.coerce``) is kept.

This reaches into typer's runtime-parameter hook (``_TyperParameter._runtime_param``, the lazily
built ``RuntimeParam``); :func:`install` leaves a parameter alone when that hook is not there, so a
typer without it still works (only slower, and the test that checks pydantic stays unimported fails).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = ["PlainCoercion", "install", "plain_value"]

try:  # typer's runtime coercion (typer.core imports these modules anyway: no extra import cost)
    from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
    from typer._param_types import coerce_cli_path
except ImportError:  # pragma: no cover - another typer: parameters keep typer's own coercion
    RuntimeParam = None  # type: ignore[assignment,misc]

#: integers and decimals written plainly (no sign "+", exponent, underscores, spaces or leading zeros)
_INT: Final = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_DECIMAL: Final = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?")
#: not an answer: the value goes to typer's own coercion
_DECLINE: Final = object()


def plain_value(kind: str, value: Any, minimum: float | None = None, maximum: float | None = None) -> Any:
    """``value`` coerced as typer would for a parameter of ``kind`` (``str``, ``int``, ``float`` or
    ``path``) when it is written plainly and within [``minimum``, ``maximum``]; else :data:`_DECLINE`."""
    out: Any
    if kind == "str":
        return value if type(value) is str else _DECLINE
    if kind == "bool":  # a flag's own True/False (typer skips those); text from an env var is typer's
        return value if type(value) is bool else _DECLINE
    if kind == "path":
        if type(value) is str and value and "\x00" not in value:
            return Path(value)
        return value if isinstance(value, Path) else _DECLINE
    if kind == "int":
        if type(value) is int:
            out = value
        elif type(value) is str and _INT.fullmatch(value):
            out = int(value)
        else:
            return _DECLINE
    elif kind == "float":
        if type(value) is float or type(value) is int or (type(value) is str and _DECIMAL.fullmatch(value)):
            out = float(value)
        else:
            return _DECLINE
    else:
        return _DECLINE
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        return _DECLINE  # typer's own coercion says what is wrong
    return out


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class PlainCoercion(RuntimeParam):
        """A parameter's coercion: plain values here, the rest by typer's own (built on first need)."""

        descriptor: TypeDescriptor
        kind: str
        _fallback: list[Any] = field(default_factory=list, compare=False, repr=False)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            info = self.parameter_info
            out = plain_value(self.kind, value, info.min, info.max)
            if out is _DECLINE:
                if not self._fallback:
                    self._fallback.append(build_runtime_param(self.descriptor))
                return self._fallback[0]._coerce_value(value, param=param, ctx=ctx)
            if self.kind == "path":  # typer's checks (exists, file/dir, resolve) on the Path
                return coerce_cli_path(out, info, path_type=Path, param=param, ctx=ctx)
            return out

else:  # pragma: no cover
    PlainCoercion = None  # type: ignore[assignment,misc]


def _kind(descriptor: Any, param: Any) -> str | None:
    info = descriptor.parameter_info
    if (
        descriptor.file_annotation is not None
        or info.parser is not None
        or param.multiple
        or param.nargs != 1
    ):
        return None
    if getattr(info, "click_type", None) is not None:
        return None
    annotation = descriptor.annotation
    if annotation is str:
        return "str"
    if annotation is bool:
        return "bool"
    if annotation in (int, float):
        return None if info.clamp else annotation.__name__
    if annotation is Path and info.path_type in (None, Path):
        return "path"
    return None


def _install_param(param: Any) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", False) is not None:
        return
    kind = _kind(descriptor, param)
    if kind is not None:
        try:
            plain = PlainCoercion(
                parameter_info=descriptor.parameter_info,
                annotation=descriptor.annotation,
                descriptor=descriptor,
                kind=kind,
            )
        except Exception:  # pragma: no cover - a typer whose RuntimeParam has another shape
            return  # the parameter keeps typer's own coercion
        param._runtime_param = plain


def install(command: Any) -> None:
    """Give every plain parameter of ``command`` (and of its subcommands), and its ``--help`` option
    (made when the command line is parsed), a :class:`PlainCoercion`."""
    if PlainCoercion is None:  # pragma: no cover
        return
    for param in getattr(command, "params", ()):
        _install_param(param)
    help_option = getattr(command, "get_help_option", None)
    if help_option is not None and not getattr(help_option, "_plain_coercion", False):

        def get_help_option(ctx: Any) -> Any:
            option = help_option(ctx)
            if option is not None:
                _install_param(option)
            return option

        get_help_option._plain_coercion = True  # type: ignore[attr-defined]
        command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        install(sub)
