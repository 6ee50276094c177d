"""The one JSON sanitiser: NaN/inf -> None, numpy -> Python, timestamps/dates -> ISO 8601.

It sits at the bottom of the layers because both the store (JSON columns in the catalog) and the
presentation layer (``--json`` output, the web API) need exactly the same rules.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

__all__ = ["dumps", "to_jsonable"]


def to_jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON types: dict keys become strings, tuples/sets/arrays lists, numpy scalars
    Python numbers, non-finite floats None, timestamps/dates ISO strings, paths strings, dataclasses
    dicts. Anything else is returned as it is (``json.dumps`` then decides)."""
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    np = sys.modules.get("numpy")  # None: numpy not imported, so obj is no numpy object (no import)
    if np is not None:
        if isinstance(obj, np.ndarray):
            return [to_jsonable(v) for v in obj.tolist()]
        if isinstance(obj, np.generic):
            return to_jsonable(obj.item())
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, PurePath):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if hasattr(obj, "isoformat"):  # pandas Timestamp/NaT and friends
        return None if obj != obj else obj.isoformat()  # NaT != NaT
    return obj


def dumps(obj: Any, *, indent: int | None = None, compact: bool = False) -> str:
    """``obj`` sanitised and serialised (strict JSON: never ``NaN``)."""
    separators = (",", ":") if compact else None
    return json.dumps(to_jsonable(obj), indent=indent, separators=separators, allow_nan=False)
