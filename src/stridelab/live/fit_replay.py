"""Replay a FIT file live: FIT has no raw IMU samples, so its per-record running dynamics (GCT
balance, ground contact, cadence, speed, heart rate) go through the same window → cue path as a live
IMU stream, as :class:`MetricBatch` es; lap boundaries are announced (with the experiment arm when an
experiment's :class:`~stridelab.live.laps.LapPlan` is given).

Updates have the shape of :class:`~stridelab.live.session.LiveSession`'s (``type``, ``time_s`` = timer
time, ``latency_s``, the metric names, ``cues``); a lap is ``{"type": "lap", "time_s", "lap", "text",
"arm"}``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.live.cues import Cues
from stridelab.live.laps import LapPlan

__all__ = ["FIT_METRICS", "FitReplay", "MetricBatch", "metric_batches"]

#: record columns replayed (SI, stridelab names)
FIT_METRICS = (
    "stance_time_balance_left_pct",
    "stance_time_s",
    "cadence_spm",
    "speed_m_s",
    "heart_rate_bpm",
    "vertical_oscillation_m",
    "step_length_m",
)


@dataclass(frozen=True, slots=True)
class MetricBatch:
    """Per-record metric values: ``time_s`` (timer time, s) and one array per metric; ``lap_index``
    (0-based) per record; ``arrived_s`` the monotonic clock when it was released."""

    time_s: npt.NDArray[np.float64]
    values: dict[str, npt.NDArray[np.float64]]
    lap_index: npt.NDArray[np.int64]
    arrived_s: float


def metric_batches(
    records: pd.DataFrame,
    *,
    speed: float | None = 1.0,
    chunk_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[MetricBatch]:
    """The moving records of an activity in chunks of ``chunk_s`` timer seconds, paced at ``speed`` ×."""
    if speed is not None and not 1.0 <= speed <= 100.0:
        raise ValueError(f"replay speed must be between 1 and 100 (×), got {speed!r}")
    rec = records
    if "paused" in rec.columns:
        rec = rec[~rec["paused"].fillna(False).astype(bool)]
    t = rec["timer_s"].to_numpy(float) if "timer_s" in rec.columns else rec["elapsed_s"].to_numpy(float)
    ok = np.isfinite(t)
    rec, t = rec[ok], t[ok]
    cols = {m: rec[m].to_numpy(float) for m in FIT_METRICS if m in rec.columns}
    laps = rec["lap_index"].to_numpy() if "lap_index" in rec.columns else np.zeros(len(rec))
    laps = np.nan_to_num(laps.astype(float), nan=0.0).astype(np.int64)
    if not len(t):
        return
    start = clock()
    t0 = float(t[0])
    edges = np.arange(t0, float(t[-1]) + chunk_s, chunk_s)
    for lo in edges:
        if speed is not None:
            wait = start + (lo + chunk_s - t0) / speed - clock()
            if wait > 0:
                sleep(wait)
        sel = (t >= lo) & (t < lo + chunk_s)
        if sel.any():
            yield MetricBatch(t[sel] - t0, {m: v[sel] for m, v in cols.items()}, laps[sel], clock())


class FitReplay:
    """Window medians of the FIT records every ``interval_s``, cues, and lap announcements."""

    def __init__(
        self,
        records: pd.DataFrame,
        *,
        speed: float | None = 1.0,
        window_s: float = 30.0,
        interval_s: float = 1.0,
        cues: Cues | None = None,
        laps: LapPlan | None = None,
        targets: dict[str, tuple[float, float]] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        missing = [m for m in ("stance_time_balance_left_pct", "stance_time_s") if m not in records.columns]
        if missing or records[[c for c in FIT_METRICS if c in records.columns]].notna().sum().sum() == 0:
            raise ValueError(
                "this FIT file has no running dynamics (GCT balance, ground contact time) to replay"
                + (f": no {', '.join(missing)}" if missing else "")
            )
        self.records = records
        self.speed, self.window_s, self.interval_s = speed, window_s, interval_s
        self.cues, self.laps, self.targets = cues, laps, dict(targets or {})
        self._clock, self._sleep = clock, sleep
        self._closed = False

    @classmethod
    def from_file(cls, path: str | Path, **kw: Any) -> FitReplay:
        from stridelab.io.fit import read_activity

        p = Path(path)
        try:
            activity = read_activity(p.read_bytes(), source_path=str(p))
        except OSError as exc:
            raise ValueError(f"{p}: cannot read ({exc.strerror})") from exc
        return cls(activity.records, **kw)

    def close(self) -> None:
        self._closed = True

    def run(self) -> Iterator[dict[str, Any]]:
        if self.targets:
            for metric, (lo, hi) in self.targets.items():
                yield {"type": "target", "metric": metric, "low": lo, "high": hi}
        buf_t: list[npt.NDArray[np.float64]] = []
        buf_v: dict[str, list[npt.NDArray[np.float64]]] = {}
        lap: int | None = None
        next_emit = self.interval_s
        for mb in metric_batches(
            self.records, speed=self.speed, chunk_s=self.interval_s, sleep=self._sleep, clock=self._clock
        ):
            if self._closed:
                return
            for k, li in enumerate(mb.lap_index):
                if lap is None or li != lap:
                    lap = int(li)
                    n = lap + 1
                    arm = self.laps.arm(n) if self.laps else None
                    text = self.laps.announce(n) if self.laps else f"lap {n}"
                    yield {"type": "lap", "time_s": float(mb.time_s[k]), "lap": n, "text": text, "arm": arm}
            buf_t.append(mb.time_s)
            for m, v in mb.values.items():
                buf_v.setdefault(m, []).append(v)
            now = float(mb.time_s[-1])
            if now + 1e-9 < next_emit:
                continue
            next_emit = now + self.interval_s
            t_all = np.concatenate(buf_t)
            keep = t_all > now - self.window_s
            metrics: dict[str, float] = {}
            for m, parts in buf_v.items():
                vals = np.concatenate(parts)[keep]
                vals = vals[np.isfinite(vals)]
                metrics[m] = float(np.median(vals)) if len(vals) else math.nan
            # bounded memory: keep only the window
            buf_t = [t_all[keep]]
            buf_v = {m: [np.concatenate(p)[keep]] for m, p in buf_v.items()}
            d: dict[str, Any] = {
                "type": "update",
                "time_s": now,
                "window_start_s": max(now - self.window_s, 0.0),
                "window_end_s": now,
                **metrics,
            }
            d["cues"] = self.cues.check(now, metrics) if self.cues else []
            d["latency_s"] = max(self._clock() - mb.arrived_s, 0.0)
            for k2, v2 in list(d.items()):
                if isinstance(v2, float) and not math.isfinite(v2):
                    d[k2] = None
            yield d
