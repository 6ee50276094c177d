"""Shared pieces of the XML writers: escaping, number and time formatting, per-lap record slices."""

from __future__ import annotations

import math
from collections.abc import Iterator
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.model import Activity

__all__ = ["Columns", "attr", "finite", "iso", "num", "text"]


def text(value: str) -> str:
    """``value`` escaped for element content (``&``, ``<``, ``>``), control characters dropped."""
    return escape("".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 0x20))


def attr(value: str) -> str:
    """``value`` as a quoted, escaped attribute value."""
    return quoteattr("".join(ch for ch in value if ord(ch) >= 0x20))


def num(value: float, digits: int) -> str:
    """A finite number with at most ``digits`` decimals, trailing zeros dropped (``1.50`` -> ``1.5``)."""
    s = f"{value:.{digits}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def iso(ts: pd.Timestamp) -> str:
    """UTC ``xsd:dateTime`` with a ``Z`` and milliseconds only when the instant has them."""
    t = pd.Timestamp(ts).tz_convert("UTC")
    ms = t.microsecond // 1000
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{ms:03d}Z" if ms else f"{base}Z"


class Columns:
    """The records as float arrays (NaN = no value) plus their times."""

    def __init__(self, records: pd.DataFrame) -> None:
        self.times = pd.DatetimeIndex(records.index)
        self._cols: dict[str, npt.NDArray[np.float64]] = {}
        for name in records.columns:
            if records[name].dtype.kind in "iufb":
                values = records[name].to_numpy(dtype="float64", na_value=np.nan)
                if np.isfinite(values).any():
                    self._cols[str(name)] = values
        self.n = len(records)
        self._iso: list[str] | None = None

    def iso(self, i: int) -> str:
        """:func:`iso` of record ``i`` (all records formatted at once on first use)."""
        if self._iso is None:
            utc = self.times.tz_convert("UTC").tz_localize(None).as_unit("ns").to_numpy()
            text = np.datetime_as_string(utc, unit="ms")
            self._iso = [t[:-4] + "Z" if t.endswith(".000") else t + "Z" for t in text.tolist()]
        return self._iso[i]

    def get(self, name: str) -> npt.NDArray[np.float64] | None:
        """The column ``name`` as floats, None when absent or without any value (O(1))."""
        return self._cols.get(name)

    def cadence_rpm(self) -> npt.NDArray[np.float64] | None:
        """Strides (or revolutions) per minute: ``cadence_rpm``, else half of ``cadence_spm``."""
        if "_cadence_rpm" not in self._cols:
            rpm = self.get("cadence_rpm")
            if rpm is None:
                spm = self.get("cadence_spm")
                rpm = spm / 2.0 if spm is not None else None
            if rpm is None:
                return None
            self._cols["_cadence_rpm"] = rpm
        return self._cols["_cadence_rpm"]

    def lap_slices(self, activity: Activity) -> Iterator[tuple[int, slice]]:
        """(lap index, record slice) of each lap in order; one lap when the activity has none."""
        lap_index = self.get("lap_index")
        n_laps = len(activity.laps)
        if n_laps == 0 or lap_index is None:
            yield 0, slice(0, self.n)
            return
        idx = np.nan_to_num(lap_index, nan=0.0).astype(np.int64)
        for k in range(n_laps):
            rows = np.flatnonzero(idx == k)
            yield k, (slice(int(rows[0]), int(rows[-1]) + 1) if len(rows) else slice(0, 0))


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
