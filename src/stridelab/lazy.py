"""Heavy libraries imported on first use, so a command that does not need them does not pay for them.

A read command on a warm store (``stridelab trend``: one cached JSON row) needs neither pandas nor
numpy nor pyarrow, yet importing them costs more than the whole command (pandas alone ~0.35 s on an
idle machine). Modules on the read path therefore bind those names lazily::

    if TYPE_CHECKING:
        import pandas as pd          # what mypy checks against
    else:
        pd = lazy_module("pandas")   # the real module is imported on the first ``pd.<name>``

The proxy imports the module the first time one of its attributes is read and then forwards every
read to it: ``pd.DataFrame`` is the real class, ``isinstance(x, pd.Timestamp)`` works, and a module
that uses pandas at import time (a module-level constant) simply imports it then.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

__all__ = ["LazyModule", "lazy_module"]


class LazyModule(types.ModuleType):
    """Stands for the module ``name`` until one of its attributes is read (then imports it)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_target"] = None

    def __getattr__(self, attr: str) -> Any:
        target = self.__dict__["_lazy_target"]
        if target is None:
            target = importlib.import_module(self.__name__)
            self.__dict__["_lazy_target"] = target
        return getattr(target, attr)

    def __dir__(self) -> list[str]:
        return dir(importlib.import_module(self.__name__))

    def __repr__(self) -> str:
        state = "imported" if self.__dict__["_lazy_target"] is not None else "not imported yet"
        return f"<lazy module {self.__name__!r} ({state})>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``import name`` that imports the module on the first attribute read (typed
    ``Any``: bind the real module under ``TYPE_CHECKING`` for mypy, see the module docstring)."""
    return LazyModule(name)
