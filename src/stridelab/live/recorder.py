"""The session journal: every live batch appended as it arrives, crash-safe, read back as a recording.

Format (JSON lines, UTF-8): a ``header`` line (sensors, start time, source), one ``batch`` line per
batch (sensor, ``first_index`` on the sensor's grid, rows of samples with ``null`` for NaN, notes) and an
``end`` line when the session closes. Each line is written whole, flushed and ``fsync``-ed before the
next batch is taken, so a crash (even ``kill -9``) leaves every batch up to the last one readable; a
torn last line is dropped with a note. Indices missing between batches are a gap: NaN rows, listed
in the recording's problems.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.live.sources.base import Batch, SensorInfo
from stridelab.services.live import ImuRecording, ImuSensor

__all__ = ["Journal", "Recorder", "read_journal"]

_COLUMNS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")


class Recorder:
    """Append-only journal writer (one file per session, opened exclusively: never overwrites)."""

    def __init__(self, path: str | Path, sensors: tuple[SensorInfo, ...], *, source: str = "") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        self._write(
            {
                "kind": "header",
                "version": 1,
                "started_utc": datetime.now(UTC).isoformat(),
                "source": source,
                "sensors": [
                    {
                        "name": s.name,
                        "placement": s.placement,
                        "side": s.side,
                        "sampling_rate_hz": s.sampling_rate_hz,
                    }
                    for s in sensors
                ],
            }
        )
        self.closed = False

    def _write(self, obj: dict[str, Any]) -> None:
        line = (json.dumps(obj, allow_nan=False, separators=(",", ":")) + "\n").encode()
        os.write(self._fd, line)
        os.fsync(self._fd)

    def append(self, batch: Batch) -> None:
        rows = [[None if not math.isfinite(v) else round(float(v), 6) for v in row] for row in batch.samples]
        self._write(
            {
                "kind": "batch",
                "sensor": batch.sensor,
                "first_index": batch.first_index,
                "rows": rows,
                "notes": list(batch.notes),
            }
        )

    def close(self) -> None:
        if not self.closed:
            self._write({"kind": "end", "ended_utc": datetime.now(UTC).isoformat()})
            os.close(self._fd)
            self.closed = True


@dataclass(slots=True)
class Journal:
    """A journal read back: per sensor its samples (NaN in gaps), the notes and whether it ended."""

    sensors: tuple[SensorInfo, ...]
    data: dict[str, npt.NDArray[np.float64]]
    notes: list[str] = field(default_factory=list)
    ended: bool = False
    started_utc: str | None = None

    def recording(self, *, gap_free: bool = False, path: str | None = None) -> ImuRecording:
        """The journal as an :class:`ImuRecording`. ``gap_free``: only the longest stretch without a
        gap in any sensor (what the offline analysis needs), the rest noted in the problems."""
        n = min(len(a) for a in self.data.values())
        problems = list(self.notes)
        a, b = 0, n
        if gap_free and n:
            ok = np.ones(n, dtype=bool)
            for arr in self.data.values():
                ok &= np.isfinite(arr[:n]).all(axis=1)
            best, start = (0, 0), None
            for i, v in enumerate(np.r_[ok, False]):
                if v and start is None:
                    start = i
                elif not v and start is not None:
                    if i - start > best[1] - best[0]:
                        best = (start, i)
                    start = None
            a, b = best
            if (a, b) != (0, n):
                fs = self.sensors[0].sampling_rate_hz
                problems.append(f"analysed {a / fs:.1f}-{b / fs:.1f} s, the longest stretch without a gap")
        sensors = []
        for s in self.sensors:
            arr = self.data[s.name][a:b]
            cols = list(_COLUMNS[: arr.shape[1]])
            sensors.append(
                ImuSensor(s.name, s.placement, s.side, pd.DataFrame(arr, columns=cols), s.sampling_rate_hz)  # type: ignore[arg-type]
            )
        start_time = pd.Timestamp(self.started_utc) if self.started_utc else None
        return ImuRecording(tuple(sensors), source_path=path, start_time=start_time, problems=tuple(problems))


def read_journal(path: str | Path) -> Journal:
    """Read a journal, also one cut by a crash (a torn last line is dropped with a note)."""
    p = Path(path)
    lines = p.read_bytes().split(b"\n")
    notes: list[str] = []
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        lines.pop()
        notes.append(f"{p.name}: the last batch was cut by a crash and is dropped")
    if not lines:
        raise ValueError(f"{p}: empty journal (no header line)")
    try:
        header = json.loads(lines[0])
    except ValueError as exc:
        raise ValueError(f"{p}: the first line is not a journal header ({exc})") from None
    if header.get("kind") != "header":
        raise ValueError(f"{p}: the first line is not a journal header")
    sensors = tuple(
        SensorInfo(s["name"], s["placement"], s.get("side"), float(s["sampling_rate_hz"]))
        for s in header["sensors"]
    )
    parts: dict[str, list[tuple[int, npt.NDArray[np.float64]]]] = {s.name: [] for s in sensors}
    ended = False
    for k, raw in enumerate(lines[1:], start=2):
        try:
            obj = json.loads(raw)
        except ValueError:
            notes.append(f"{p.name}: line {k} unreadable, skipped")
            continue
        if obj.get("kind") == "end":
            ended = True
        elif obj.get("kind") == "batch" and obj.get("sensor") in parts and obj.get("rows"):
            rows = np.array([[np.nan if v is None else v for v in r] for r in obj["rows"]], dtype=float)
            parts[obj["sensor"]].append((int(obj["first_index"]), rows))
            notes += [str(n) for n in obj.get("notes", [])]
    data: dict[str, npt.NDArray[np.float64]] = {}
    for s in sensors:
        chunks = parts[s.name]
        width = chunks[0][1].shape[1] if chunks else 3
        n = max((i + len(r) for i, r in chunks), default=0)
        arr = np.full((n, width), np.nan)
        covered = np.zeros(n, dtype=bool)
        for i, r in chunks:
            arr[i : i + len(r)] = r
            covered[i : i + len(r)] = True
        missing = np.flatnonzero(~covered)
        if len(missing):
            first_s = missing[0] / s.sampling_rate_hz
            notes.append(
                f"{s.name}: {len(missing)} sample(s) never arrived (first at {first_s:.2f} s): "
                "marked as a gap"
            )
        data[s.name] = arr
    return Journal(sensors, data, notes, ended, header.get("started_utc"))
