"""The decoded messages of the fast engine: per message type columns or rows, and :class:`LazyFrames`.

``FitFile.messages`` is a :class:`LazyFrames` mapping: the file is scanned, and its ``hr`` and
``record`` messages decoded, eagerly; every other message type is decoded when first accessed (a
caller that reads the records pays for nothing else), and the pandas DataFrame of a message type is
built when first accessed. The cyclic garbage collector is paused while decoding and building
frames (:func:`no_gc`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

__all__ = ["Built", "LazyFrames", "no_gc"]


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: decoding allocates many small acyclic objects (lists,
    dicts) and the collector's repeated passes over them would cost more than the decoding."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True, eq=False)
class Built:
    """The decoded columns (vectorised path) or rows (emulation path) of one message type."""

    n: int
    cols: dict[str, Any] | None = None
    rows: list[dict[str, Any]] | None = None
    raw: list[dict[Any, Any]] | None = None

    def frame(self) -> pd.DataFrame:
        with no_gc():
            return self._frame()

    def _frame(self) -> pd.DataFrame:
        if self.cols:
            return pd.DataFrame(self.cols, copy=False)
        if not self.rows or not any(self.rows):
            return pd.DataFrame(index=pd.RangeIndex(self.n))
        return pd.DataFrame.from_records(self.rows)


class LazyFrames(MutableMapping[str, pd.DataFrame]):
    """``FitFile.messages`` of the engine: a message type is decoded into arrays (or rows) when first
    accessed, unless it was decoded with the file (``Built``); the pandas DataFrame wrapping them is
    built on first access too (it costs more than decoding small, wide message types). Both are
    then kept."""

    def __init__(self, built: dict[str, Built | Callable[[], Built]]) -> None:
        self._built = built
        self._frames: dict[str, pd.DataFrame] = {}

    def _decoded(self, key: str) -> Built | None:
        built = self._built.get(key)
        if built is None or isinstance(built, Built):
            return built
        done = built()
        self._built[key] = done
        return done

    def __getitem__(self, key: str) -> pd.DataFrame:
        frame = self._frames.get(key)
        if frame is None:
            built = self._decoded(key)
            if built is None:
                raise KeyError(key)
            frame = built.frame()
            self._frames[key] = frame
        return frame

    def rows(self, key: str) -> list[dict[str, Any]]:
        """The messages of one type as dicts (missing fields absent or NaN), without building a
        DataFrame: much cheaper for the small message types (laps, sessions, events, devices)."""
        built = self._decoded(key)
        if built is None:
            return []
        if key in self._frames or (built.rows is None and not built.cols):
            # column labels of decoded messages are field names (str)
            return cast("list[dict[str, Any]]", self[key].to_dict("records"))
        if built.rows is not None:
            return [dict(r) for r in built.rows]
        assert built.cols is not None
        names = list(built.cols)
        columns = [list(built.cols[n]) for n in names]
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]

    def columns(self, key: str) -> tuple[int, dict[str, Any]]:
        """The number of messages of one type and their columns, without building a DataFrame: the
        decoded arrays (numpy arrays; a pandas ``DatetimeArray`` for times) of the vectorised path,
        else the DataFrame's columns (Series). ``(0, {})`` when the type is absent. The arrays are
        shared with the decoded file: do not modify them."""
        built = self._decoded(key)
        if built is None:
            return 0, {}
        if key not in self._frames and built.cols:
            return built.n, dict(built.cols)
        frame = self[key]
        return len(frame), {str(c): frame[c] for c in frame.columns}

    def __setitem__(self, key: str, value: pd.DataFrame) -> None:
        self._frames[key] = value
        self._built.setdefault(key, Built(len(value)))

    def __delitem__(self, key: str) -> None:
        del self._built[key]
        self._frames.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._built)

    def __len__(self) -> int:
        return len(self._built)

    def __contains__(self, key: object) -> bool:
        return key in self._built

    def __repr__(self) -> str:
        counts = {k: (b.n if isinstance(b, Built) else "not decoded yet") for k, b in self._built.items()}
        return f"LazyFrames({counts})"
