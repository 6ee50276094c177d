"""stridelab: a gait-and-balance lab for runners.

The public API is small; everything else lives in private modules and may change::

    import stridelab
    store = stridelab.Store.open("~/stridelab-store")
    stridelab.import_paths(store, ["~/fit-archive"])
    activity = stridelab.read_activity(open("run.fit", "rb").read())
    fit = stridelab.read_fit("run.fit")          # every message as DataFrames, problems listed

Heavy parts are imported lazily on first attribute access, so ``import stridelab`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from stridelab.procs import follow_parent_from_env

follow_parent_from_env()  # a spawned worker: exit with the parent (before anything heavy is imported)

_LAZY: dict[str, str] = {
    "__version__": "stridelab.version",  # importlib.metadata costs ~0.1 s: only when asked
    "Activity": "stridelab.model",
    "Lap": "stridelab.model",
    "Session": "stridelab.model",
    "RECORD_COLUMNS": "stridelab.model",
    "Store": "stridelab.store",
    "import_paths": "stridelab.services.imports",
    "read_activity": "stridelab.io.fit",
    "read_fit": "stridelab.io.fit",
    "FitFile": "stridelab.io.fit",
    "FitDecodeError": "stridelab.io.fit",
}

__all__ = [
    "RECORD_COLUMNS",
    "Activity",
    "FitDecodeError",
    "FitFile",
    "Lap",
    "Session",
    "Store",
    "__version__",
    "import_paths",
    "read_activity",
    "read_fit",
]

if TYPE_CHECKING:
    from stridelab.io.fit import FitDecodeError, FitFile, read_activity, read_fit
    from stridelab.model import RECORD_COLUMNS, Activity, Lap, Session
    from stridelab.services.imports import import_paths
    from stridelab.store import Store
    from stridelab.version import __version__


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'stridelab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
