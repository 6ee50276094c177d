"""Heavy libraries imported on first use, so a command that does not need them does not pay for them.

A read command on a warm store (``stridelab trend``: one cached JSON row) needs neither pandas nor
numpy nor pyarrow, yet importing them costs more than the whole command (pandas alone ~0.35 s on an
idle machine). Modules on the read path therefore bind those names lazily::

    if TYPE_CHECKING:
        import pandas as pd          # what mypy checks against
    else:
        pd = lazy_module("pandas")   # the real module is imported on the first ``pd.<name>``

The proxy imports the module the first time one of its attributes is read and then copies the
module's names into itself, so every later ``pd.DataFrame`` is a plain attribute read as fast as on the
module (a name the module adds later is still forwarded): ``pd.DataFrame`` is the real class,
``isinstance(x, pd.Timestamp)`` works, and a module that uses pandas at import time (a module-level
constant) simply imports it then.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

__all__ = ["LazyModule", "lazy_module"]


class LazyModule(types.ModuleType):
    """Stands for the module ``name`` until one of its attributes is read (then imports it).

    The loader is the proxy's own module ``__getattr__`` (PEP 562), called only for a name the proxy
    does not hold: the first read imports the module and copies its names in, so a later ``pd.<name>``
    is the interpreter's ordinary module attribute read (no Python call); a name the module adds later
    (a submodule imported on demand) is forwarded once and then kept."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_target"] = None

        def load(attr: str) -> Any:
            target = self.__dict__["_lazy_target"]
            if target is None:
                if attr.startswith("__"):  # a probe of the proxy (inspect, doctest): not a use
                    raise AttributeError(f"module {name!r} has no attribute {attr!r} (not imported yet)")
                target = importlib.import_module(name)
                self.__dict__["_lazy_target"] = target
                self.__dict__.update((k, v) for k, v in vars(target).items() if not k.startswith("__"))
                if attr in self.__dict__:
                    return self.__dict__[attr]
            value = getattr(target, attr)
            if not attr.startswith("__"):
                self.__dict__[attr] = value
            return value

        self.__dict__["__getattr__"] = load

    def __dir__(self) -> list[str]:
        return dir(importlib.import_module(self.__name__))

    def __repr__(self) -> str:
        state = "imported" if self.__dict__["_lazy_target"] is not None else "not imported yet"
        return f"<lazy module {self.__name__!r} ({state})>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``import name`` that imports the module on the first attribute read (typed
    ``Any``: bind the real module under ``TYPE_CHECKING`` for mypy, see the module docstring)."""
    return LazyModule(name)
