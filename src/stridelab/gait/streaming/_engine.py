"""The streaming gait engine: offline detectors over a bounded look-back buffer, rolling metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.frames import EVENT_PLACEMENTS, SIDES, EventPlacement, FrameTransform, Side, check_option
from stridelab.gait._base import Algorithm
from stridelab.gait._checks import ImuDataError
from stridelab.gait._signal import runs
from stridelab.gait.events import DETECTORS, EVENT_COLUMNS, SacrumEventDetection, events_frame
from stridelab.gait.metrics import step_table, stride_table, temporal_summary
from stridelab.gait.streaming._fast import fast_window_metrics
from stridelab.gait.streaming._kinematics import LIVE_KINEMATICS, KinematicsTracker

__all__ = [
    "LIVE_KINEMATICS",
    "LIVE_METRICS",
    "LiveUpdate",
    "StreamingEventDetection",
    "StreamingGait",
    "window_metrics",
]

#: columns of a chunk pushed into a detector (sensor frame, SI); gyroscope columns optional.
ACC_COLUMNS = ("acc_x", "acc_y", "acc_z")
GYR_COLUMNS = ("gyr_x", "gyr_y", "gyr_z")

#: the window metrics emitted live, named as everywhere in stridelab (SI; cadence in steps/min).
LIVE_METRICS: tuple[str, ...] = (
    "cadence_spm",
    "stance_time_s",
    "stance_time_s_left",
    "stance_time_s_right",
    "stance_time_balance_left_pct",
    "step_time_s",
    "step_time_symmetry_index_pct",
    "flight_time_s",
    "stride_time_s",
    "n_strides",
)

#: two events of the same foot and kind closer than this are one event seen by two detector runs.
_SAME_EVENT_S = 0.1


def window_metrics(events: pd.DataFrame, start_s: float, end_s: float) -> dict[str, float]:
    """The :data:`LIVE_METRICS` of the events with ``start_s <= time_s <= end_s`` (offline functions).

    The same function serves the live window and the offline check: given the same events, the same
    numbers come out.
    """
    ev = events[(events["time_s"] >= start_s) & (events["time_s"] <= end_s)]
    strides = stride_table(ev)
    steps = step_table(ev, strides)
    s = temporal_summary(strides, steps)
    return {
        "cadence_spm": s["cadence_spm"],
        "stance_time_s": s["contact_time_s"],
        "stance_time_s_left": s["contact_time_s_left"],
        "stance_time_s_right": s["contact_time_s_right"],
        "stance_time_balance_left_pct": s["balance_left_pct"],
        "step_time_s": s["step_time_s"],
        "step_time_symmetry_index_pct": s["step_time_symmetry_index_pct"],
        "flight_time_s": s["flight_time_s"],
        "stride_time_s": s["stride_time_s"],
        "n_strides": s["n_strides"],
    }


class StreamingEventDetection(Algorithm):
    """IC/TO of one sensor from arriving chunks, with the offline detector of its placement.

    Parameters
    ----------
    placement
        "foot", "shank" or "sacrum" (the offline detector of :data:`stridelab.gait.events.DETECTORS`).
    side
        The sensor's side (required for foot and shank, None for the sacrum).
    sampling_rate_hz
        The stream's sample rate (chunks are on a uniform grid; row ``i`` is at ``i / rate``).
    buffer_s
        Look-back kept in memory and given to the detector on each run (bounded memory and CPU).
    interval_s
        Stream time between two detector runs.
    settle_s
        Events closer than this to either edge of the buffer are provisional; they become final in a
        later run, when the filters and the peak search see the same samples around them as offline.

    Verbs: ``push(chunk)`` and, at the end of the stream, ``finish()``; both return ``self`` with
    ``new_events_`` (the events made final by that call, ``time_s, side, event`` from the first
    sample), ``final_until_s_`` (events before it are final) and ``problems_`` (notes, never dropped).
    """

    _action_method: ClassVar[str] = "push"

    placement: EventPlacement
    side: Side | None
    sampling_rate_hz: float
    buffer_s: float
    interval_s: float
    settle_s: float

    new_events_: pd.DataFrame
    final_until_s_: float
    problems_: tuple[str, ...]
    body_frame_: FrameTransform | None

    def __init__(
        self,
        placement: EventPlacement,
        side: Side | None,
        sampling_rate_hz: float,
        buffer_s: float = 16.0,
        interval_s: float = 2.0,
        settle_s: float = 3.0,
    ) -> None:
        self.placement = placement
        self.side = side
        self.sampling_rate_hz = sampling_rate_hz
        self.buffer_s = buffer_s
        self.interval_s = interval_s
        self.settle_s = settle_s

    # -- state -------------------------------------------------------------------------------------
    def _start(self) -> None:
        check_option("placement", self.placement, EVENT_PLACEMENTS)
        if self.side is not None:
            check_option("side", self.side, SIDES)
        if not (math.isfinite(self.sampling_rate_hz) and self.sampling_rate_hz > 0):
            raise ValueError(f"sampling_rate_hz must be a positive number, got {self.sampling_rate_hz!r}")
        if self.buffer_s - 2 * self.settle_s <= self.interval_s:
            raise ValueError(
                f"buffer_s ({self.buffer_s}) must exceed 2 × settle_s + interval_s "
                f"({2 * self.settle_s + self.interval_s}): otherwise some events are never final"
            )
        self._chunks: list[npt.NDArray[np.float64]] = []
        self._n_buffered = 0
        self._first_index = 0  # stream index of the buffer's first sample
        self._n_total = 0
        self._next_run = round(self.interval_s * self.sampling_rate_hz)
        self._final_until = 0.0
        self._emitted: list[tuple[float, str, str]] = []
        self._columns: tuple[str, ...] | None = None
        self._problems: list[str] = []
        self.final_until_s_ = 0.0
        self.problems_ = ()
        self.new_events_ = events_frame([], [], [], [])
        self.body_frame_ = None

    def push(self, chunk: npt.ArrayLike) -> Self:
        """Append ``chunk`` (rows = samples; columns ``acc_x, acc_y, acc_z`` [``, gyr_x, gyr_y, gyr_z``])."""
        if not hasattr(self, "_chunks"):
            self._start()
        arr = np.asarray(chunk, dtype=float)
        if arr.ndim != 2 or arr.shape[1] not in (3, 6):
            raise ValueError(
                f"a chunk has 3 (acc) or 6 (acc + gyr) columns per sample, got shape {arr.shape}"
            )
        cols = ACC_COLUMNS + (GYR_COLUMNS if arr.shape[1] == 6 else ())
        if self._columns is None:
            self._columns = cols
        elif cols != self._columns:
            raise ValueError(f"a chunk changed its columns from {len(self._columns)} to {len(cols)}")
        self._chunks.append(arr)
        self._n_buffered += len(arr)
        self._n_total += len(arr)
        found: list[tuple[float, str, str]] = []
        if self._n_total >= self._next_run:
            found = self._run(final=False)
            step = max(round(self.interval_s * self.sampling_rate_hz), 1)
            while self._next_run <= self._n_total:
                self._next_run += step
        self._publish(found)
        return self

    def finish(self) -> Self:
        """End of the stream: the events up to the last sample become final (as offline at the end)."""
        if not hasattr(self, "_chunks"):
            self._start()
        self._publish(self._run(final=True) if self._n_buffered else [])
        return self

    def _publish(self, found: list[tuple[float, str, str]]) -> None:
        self.final_until_s_ = self._final_until
        if not found and not len(self.new_events_) and len(self.problems_) == len(self._problems):
            return  # nothing changed: no new frame (the live loop's CPU budget)
        self.new_events_ = events_frame(
            [t for t, _, e in found if e == "IC"],
            [t for t, _, e in found if e == "TO"],
            [s for _, s, e in found if e == "IC"],
            [s for _, s, e in found if e == "TO"],
        )
        self.problems_ = tuple(self._problems)

    def _run(self, *, final: bool) -> list[tuple[float, str, str]]:
        fs = self.sampling_rate_hz
        data = np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        keep = round(self.buffer_s * fs)
        if len(data) > keep:
            self._first_index += len(data) - keep
            data = data[-keep:]
        self._chunks = [data]
        self._n_buffered = len(data)
        found: list[tuple[float, str, str]] = []
        bad = ~np.isfinite(data).all(axis=1)
        if bad.any():  # a gap: the parts between gaps are analysed separately, as offline
            if not any(p.startswith("gap:") for p in self._problems[-3:]):
                gap_s = (self._first_index + int(np.argmax(bad))) / fs
                self._problems.append(f"gap: samples missing at {gap_s:.2f} s; events resume after it")
            for a, b in runs(~bad):
                first = self._first_index + a
                found += self._segment(data[a:b], first, final=final, ends_at_gap=b < len(data))
            return found
        return self._segment(data, self._first_index, final=final, ends_at_gap=False)

    def _segment(
        self, data: npt.NDArray[np.float64], first: int, *, final: bool, ends_at_gap: bool
    ) -> list[tuple[float, str, str]]:
        fs = self.sampling_rate_hz
        start_s = first / fs
        end_s = (first + len(data)) / fs
        hi = end_s if (final or ends_at_gap) else end_s - self.settle_s
        # the start of the stream, or a segment after a gap, is an edge offline too
        at_edge = first == 0 or first > self._first_index
        lo = start_s if at_edge else start_s + self.settle_s
        lo = max(lo, self._final_until - 2 * _SAME_EVENT_S)
        if hi <= lo:
            return []
        assert self._columns is not None
        frame = pd.DataFrame(data, columns=list(self._columns))
        try:
            det = DETECTORS[self.placement]().detect(frame, sampling_rate_hz=fs, side=self.side)
        except (ImuDataError, ValueError) as exc:
            note = f"{start_s:.1f}-{end_s:.1f} s: no events ({exc})"
            if not self._problems or not self._problems[-1].endswith(f"({exc})"):
                self._problems.append(note)
            if not ends_at_gap:
                self._final_until = max(self._final_until, hi)
            return []
        for p in det.problems_:
            if p not in self._problems:
                self._problems.append(p)
        self.body_frame_ = det.body_frame_  # the sensor→body frame of the latest look-back
        ev = det.events_
        t = ev["time_s"].to_numpy(float) + start_s
        found = []
        for time_s, side, kind in zip(t, ev["side"], ev["event"], strict=True):
            if not (lo <= time_s <= hi):
                continue
            if any(
                s == side and e == kind and abs(x - time_s) < _SAME_EVENT_S for x, s, e in self._emitted[-8:]
            ):
                continue
            found.append((float(time_s), str(side), str(kind)))
            self._emitted.append((float(time_s), str(side), str(kind)))
        self._emitted = self._emitted[-16:]
        self._final_until = max(self._final_until, hi)
        return found


@dataclass(frozen=True, slots=True)
class LiveUpdate:
    """One emitted update. ``time_s``: stream time of the last sample used; the window's metrics are
    computed from the final events in ``[window_start_s, window_end_s]``."""

    time_s: float
    window_start_s: float
    window_end_s: float
    metrics: dict[str, float]
    new_events: pd.DataFrame
    problems: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        """Flat dict: ``time_s``, the window bounds and :data:`LIVE_METRICS` (NaN when not computable)."""
        out: dict[str, object] = {
            "time_s": self.time_s,
            "window_start_s": self.window_start_s,
            "window_end_s": self.window_end_s,
        }
        out.update(self.metrics)
        return out


@dataclass(frozen=True, slots=True)
class _SensorSpec:
    name: str
    placement: str
    side: Side | None


class StreamingGait(Algorithm):
    """Live events and rolling-window metrics for several sensors of one stream (same time origin).

    Parameters
    ----------
    sensors
        ``(name, placement, side)`` per sensor; as offline, the events come from the feet if there are
        foot sensors, else the shanks, else the sacrum (other sensors are accepted and ignored).
    sampling_rate_hz
        Common sample rate of the sensors.
    window_s
        Length of the rolling window the metrics are computed over.
    interval_s
        Stream time between two updates.
    detect_interval_s, buffer_s, settle_s
        Passed to each :class:`StreamingEventDetection`.

    Verbs: ``push(name, chunk)`` returns ``self`` with ``update_`` (a :class:`LiveUpdate` when an
    update is due, else None); ``finish()`` returns ``self`` with the last update.
    ``events_`` holds every final event so far.

    Sensors with a gyroscope at the foot, sacrum or chest add their kinematics to the metrics (foot
    strike angle per foot, pelvic drop per side and obliquity range, trunk lean; rad, medians over the
    window's strides; :data:`~stridelab.gait.streaming.LIVE_KINEMATICS`).
    """

    _action_method: ClassVar[str] = "push"

    sensors: tuple[tuple[str, str, Side | None], ...]
    sampling_rate_hz: float
    window_s: float
    interval_s: float
    detect_interval_s: float
    buffer_s: float
    settle_s: float

    update_: LiveUpdate | None
    events_: pd.DataFrame

    def __init__(
        self,
        sensors: tuple[tuple[str, str, Side | None], ...],
        sampling_rate_hz: float,
        window_s: float = 30.0,
        interval_s: float = 1.0,
        detect_interval_s: float = 2.0,
        buffer_s: float = 16.0,
        settle_s: float = 3.0,
    ) -> None:
        self.sensors = sensors
        self.sampling_rate_hz = sampling_rate_hz
        self.window_s = window_s
        self.interval_s = interval_s
        self.detect_interval_s = detect_interval_s
        self.buffer_s = buffer_s
        self.settle_s = settle_s

    def _start(self) -> None:
        specs = [_SensorSpec(n, p, s) for n, p, s in self.sensors]
        if not specs:
            raise ValueError("StreamingGait needs at least one sensor")
        source = next(
            (p for p in ("foot", "shank", "sacrum") if any(s.placement == p for s in specs)),
            None,
        )
        if source is None:
            raise ValueError(
                "no sensor that detects gait events: add a foot, shank or sacrum sensor "
                f"(got {[s.placement for s in specs]})"
            )
        used = [s for s in specs if s.placement == source]
        if source == "sacrum":
            used = used[:1]
        self._detectors: dict[str, StreamingEventDetection] = {}
        for s in used:
            if source != "sacrum" and s.side is None:
                raise ValueError(f"sensor {s.name!r} at the {source} needs a side (left/right)")
            self._detectors[s.name] = StreamingEventDetection(
                source,  # type: ignore[arg-type]
                None if source == "sacrum" else s.side,
                self.sampling_rate_hz,
                buffer_s=self.buffer_s,
                interval_s=self.detect_interval_s,
                settle_s=self.settle_s,
            )
        self._names = {s.name for s in specs}
        self._events: list[pd.DataFrame] = []
        self._n: dict[str, int] = {s.name: 0 for s in specs}
        self._next_update = self.interval_s
        self.events_ = events_frame([], [], [], [])
        self._arrays = (np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool))
        self.update_ = None
        self._kin = KinematicsTracker(self.sensors, self.sampling_rate_hz, keep_s=self.buffer_s + 14.0)
        self._kin_until = -math.inf  # strides with an IC up to here have their kinematics
        self._source = source
        self._sacrum_frame: FrameTransform | None = None
        self._sacrum_tried_s = -math.inf

    def push(self, name: str, chunk: npt.ArrayLike) -> Self:
        """Append ``chunk`` of sensor ``name`` (see :meth:`StreamingEventDetection.push`)."""
        if not hasattr(self, "_detectors"):
            self._start()
        if name not in self._names:
            raise ValueError(f"unknown sensor {name!r}; the stream has {sorted(self._names)}")
        arr = np.asarray(chunk, dtype=float)
        self._n[name] += len(arr)
        if arr.ndim == 2:
            self._kin.push(name, arr)
        det = self._detectors.get(name)
        if det is not None:
            det.push(arr)
            if len(det.new_events_):
                self._events.append(det.new_events_)
        now = self._time_s()
        self.update_ = None
        if now >= self._next_update:
            self.update_ = self._update(now)
            while self._next_update <= now:
                self._next_update += self.interval_s
        return self

    def finish(self) -> Self:
        """End of the stream: the last events become final and one last update is made."""
        if not hasattr(self, "_detectors"):
            self._start()
        for det in self._detectors.values():
            det.finish()
            if len(det.new_events_):
                self._events.append(det.new_events_)
        self._kin.finish()
        self.update_ = self._update(self._time_s(), final=True)
        return self

    def _time_s(self) -> float:
        return min(self._n[n] for n in self._detectors) / self.sampling_rate_hz

    def _update(self, now: float, *, final: bool = False) -> LiveUpdate:
        new, self._events = self._events, []
        fresh = (
            pd.concat(new).sort_values(["time_s", "event"], kind="stable").reset_index(drop=True)
            if new
            else events_frame([], [], [], [])
        )
        if len(fresh):
            both = pd.concat([self.events_, fresh]) if len(self.events_) else fresh
            both = both.sort_values(["time_s", "event"], kind="stable").reset_index(drop=True)
            # bounded memory: keep what the window can still use
            horizon = min(d.final_until_s_ for d in self._detectors.values())
            self.events_ = both[both["time_s"] >= horizon - self.window_s - 5.0].reset_index(drop=True)
            self._arrays = (
                self.events_["time_s"].to_numpy(float),
                (self.events_["side"] == "left").to_numpy(bool),
                (self.events_["event"] == "IC").to_numpy(bool),
            )
        end = now if final else min(d.final_until_s_ for d in self._detectors.values())
        start = max(end - self.window_s, 0.0)
        metrics = fast_window_metrics(*self._arrays, start, end)
        if self._kin.metrics:
            if len(fresh) or final:
                self._kinematics(now, end)
            metrics.update(self._kin.window(start, end))
        problems = tuple(f"{n}: {p}" for n, d in self._detectors.items() for p in d.problems_)
        problems += tuple(self._kin.problems)
        return LiveUpdate(
            time_s=now,
            window_start_s=start,
            window_end_s=end,
            metrics=metrics,
            new_events=fresh[list(EVENT_COLUMNS)],
            problems=problems,
        )

    def _kinematics(self, now: float, end: float) -> None:
        """Kinematics of the strides made final since the last update (complete up to ``end``)."""
        if not len(self.events_):
            return
        # only the events that can complete a stride not yet seen (the table is sorted by time)
        lo = int(np.searchsorted(self._arrays[0], self._kin_until - 3.0, side="left"))
        strides = stride_table(self.events_.iloc[max(lo, 0) :])
        new = strides[(strides["ic_s"] > self._kin_until) & (strides["next_ic_s"] <= end)]
        if not len(new):
            return
        frames: dict[str, FrameTransform | None] = {n: d.body_frame_ for n, d in self._detectors.items()}
        for name, placement, _side in self.sensors:
            if placement == "sacrum" and name not in frames:
                frames[name] = self._sacrum_frame_of(name, now)
        self._kin.add_strides(new, frames)
        self._kin_until = float(new["ic_s"].max())

    def _sacrum_frame_of(self, name: str, now: float) -> FrameTransform | None:
        """A sacrum that is not the event source still needs its body frame (pelvic drop): the offline
        sacrum detector over its look-back, tried every 10 s until found, then every 60 s."""
        wait = 60.0 if self._sacrum_frame is not None else 10.0
        buf = self._kin.buffer(name)
        if buf is None or now - self._sacrum_tried_s < wait:
            return self._sacrum_frame
        self._sacrum_tried_s = now
        d, q, _ = buf.aligned()
        if len(d) < 5 * self.sampling_rate_hz or not (np.isfinite(d).all() and np.isfinite(q).all()):
            return self._sacrum_frame
        from stridelab.gait.orientation import Orientation

        frame = pd.DataFrame(d, columns=list(ACC_COLUMNS + GYR_COLUMNS))
        o = Orientation(q, self.sampling_rate_hz, method="madgwick", gain=buf.orientation.gain)
        try:
            det = SacrumEventDetection().detect(frame, sampling_rate_hz=self.sampling_rate_hz, orientation=o)
        except (ImuDataError, ValueError):
            return self._sacrum_frame
        self._sacrum_frame = det.body_frame_
        return self._sacrum_frame
