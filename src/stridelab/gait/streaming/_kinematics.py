"""Live kinematics: foot strike angle, pelvic drop and obliquity, trunk lean over the rolling window.

Each sensor with a gyroscope at the foot, the sacrum or the chest keeps its Madgwick orientation
running across chunks (the quaternion state is carried from one chunk to the next, started from the
first second's gravity as offline, so the stream sees the same orientation as the whole recording) and
a bounded buffer of its samples. When strides become final, the offline per-stride functions
(:func:`~stridelab.gait.metrics.foot_strike`, :func:`~stridelab.gait.metrics.pelvic_obliquity`,
:func:`~stridelab.gait.metrics.trunk_lean`) run on the buffered samples of those strides; the window
metric is the median of the strides whose IC lies in the window -- the offline summary's rule.

What differs from offline is stated, not hidden: the body frame (foot pitch axis, pelvis medio-lateral
axis) comes from the last detector run over the look-back buffer, not from the whole recording; the
trunk's long axis comes from the first still, upright 2 s of the stream (as offline) and its forward
axis from the first ``forward_after_s`` of movement after it (offline: the whole recording).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.frames import FrameTransform
from stridelab.gait._signal import FloatArray
from stridelab.gait.metrics import foot_strike, pelvic_obliquity, trunk_lean, upright_trunk_axis
from stridelab.gait.orientation import (
    DEFAULT_GAIN,
    Orientation,
    horizontal_principal_axis,
    initial_quaternion,
    madgwick_quaternions,
)

__all__ = ["LIVE_KINEMATICS", "KinematicsTracker", "StreamingOrientation"]

#: the kinematic window metrics emitted live (rad), named as in the offline summary.
LIVE_KINEMATICS: dict[str, tuple[str, ...]] = {
    "foot": ("foot_strike_angle_rad_left", "foot_strike_angle_rad_right"),
    "sacrum": ("pelvic_drop_rad_left", "pelvic_drop_rad_right", "pelvic_obliquity_range_rad"),
    "chest": ("trunk_lean_rad",),
}


class StreamingOrientation:
    """The compiled Madgwick filter over arriving chunks, equal to one pass over the whole stream.

    The first quaternion is taken from the first second of accelerometer data (as
    :func:`~stridelab.gait.orientation.estimate_orientation`), so samples are held until a second has
    arrived. A non-finite sample (a gap) ends the current pass: its rows get NaN quaternions and the
    filter starts again from the gravity of the first second after the gap.
    """

    def __init__(self, sampling_rate_hz: float, *, gain: float = DEFAULT_GAIN) -> None:
        self.fs = float(sampling_rate_hz)
        self.gain = gain
        self._q: FloatArray | None = None  # last quaternion of the running pass
        self._last: FloatArray | None = None  # last sample (acc, gyr) of the running pass
        self._held: list[FloatArray] = []  # samples waiting for the first second

    def push(self, samples: npt.ArrayLike) -> FloatArray:
        """Quaternions (rows, 4) for the samples that can be filtered now (held ones first, in order)."""
        arr = np.asarray(samples, dtype=float)
        out: list[FloatArray] = []
        bad = ~np.isfinite(arr).all(axis=1)
        start = 0
        for i in [*np.flatnonzero(bad).tolist(), len(arr)]:
            if i > start:
                out.append(self._run(arr[start:i]))
            if i < len(arr):  # the gap row: the held samples (< 1 s) are filtered, the pass ends
                out.append(self._flush())
                out.append(np.full((1, 4), math.nan))
                self._q = self._last = None
            start = i + 1
        return np.concatenate(out) if out else np.zeros((0, 4))

    def flush(self) -> FloatArray:
        """End of the stream: filter what is held (a stream shorter than a second)."""
        return self._flush()

    def _flush(self) -> FloatArray:
        if not self._held:
            return np.zeros((0, 4))
        held = np.concatenate(self._held)
        self._held = []
        return self._start(held)

    def _start(self, data: FloatArray) -> FloatArray:
        acc, gyr = data[:, :3], data[:, 3:6]
        q = madgwick_quaternions(acc, gyr, self.fs, gain=self.gain, q0=initial_quaternion(acc, self.fs))
        self._q, self._last = q[-1].copy(), data[-1].copy()
        return q

    def _run(self, data: FloatArray) -> FloatArray:
        if self._q is None:
            self._held.append(data)
            if sum(len(h) for h in self._held) < max(int(self.fs), 2):
                return np.zeros((0, 4))
            held = np.concatenate(self._held)
            self._held = []
            return self._start(held)
        assert self._last is not None
        both = np.vstack([self._last, data])
        q = madgwick_quaternions(both[:, :3], both[:, 3:6], self.fs, gain=self.gain, q0=self._q)[1:]
        self._q, self._last = q[-1].copy(), data[-1].copy()
        return q


@dataclass
class _SensorBuffer:
    """Samples and quaternions of one sensor on the stream's index (bounded look-back).

    The quaternions lag the samples by what the orientation holds (the first second), so each array has
    its own first stream index.
    """

    name: str
    placement: str
    side: str | None
    fs: float
    keep_s: float
    orientation: StreamingOrientation
    first: int = 0  # stream index of data[0]
    q_first: int = 0  # stream index of quats[0]
    data: FloatArray = field(default_factory=lambda: np.zeros((0, 6)))
    quats: FloatArray = field(default_factory=lambda: np.zeros((0, 4)))

    def push(self, arr: FloatArray) -> None:
        self._append(arr, self.orientation.push(arr))

    def finish(self) -> None:
        self._append(np.zeros((0, 6)), self.orientation.flush())

    def _append(self, arr: FloatArray, q: FloatArray) -> None:
        keep = round(self.keep_s * self.fs)
        if len(arr):
            self.data = np.vstack([self.data, arr])
            if len(self.data) > keep:
                self.first += len(self.data) - keep
                self.data = self.data[-keep:]
        if len(q):
            self.quats = np.vstack([self.quats, q])
            if len(self.quats) > keep:
                self.q_first += len(self.quats) - keep
                self.quats = self.quats[-keep:]

    def aligned(self) -> tuple[FloatArray, FloatArray, int]:
        """(samples, quaternions, first stream index) where both are known."""
        lo = max(self.first, self.q_first)
        hi = min(self.first + len(self.data), self.q_first + len(self.quats))
        if hi <= lo:
            return np.zeros((0, 6)), np.zeros((0, 4)), lo
        return (
            self.data[lo - self.first : hi - self.first],
            self.quats[lo - self.q_first : hi - self.q_first],
            lo,
        )

    def span(self, t0_s: float, t1_s: float) -> tuple[FloatArray, FloatArray, int] | None:
        """(samples, quaternions, first stream index) covering ``[t0_s, t1_s]`` with a finite
        orientation, or None when the buffer no longer (or not yet) holds it."""
        i0 = math.floor(t0_s * self.fs) - 1
        i1 = math.ceil(t1_s * self.fs) + 2
        lo = max(self.first, self.q_first)
        hi = min(self.first + len(self.data), self.q_first + len(self.quats))
        if i0 < lo or i1 > hi:
            return None
        d = self.data[i0 - self.first : i1 - self.first]
        q = self.quats[i0 - self.q_first : i1 - self.q_first]
        if not (np.isfinite(q).all() and np.isfinite(d).all()):
            return None
        return d, q, i0


@dataclass
class _Trunk:
    """The chest sensor's axes, found once from the stream (see the module docstring)."""

    axis: FloatArray | None = None
    axis_end_s: float = math.nan
    forward: FloatArray | None = None
    tried_n: int = 0  # samples known to the orientation at the last search


class KinematicsTracker:
    """Per-stride kinematics of the final strides, and their window medians.

    ``push(name, chunk)`` for every sensor chunk; ``add_strides(strides, frames)`` with the strides made
    final since the last call and the body frame of each sensor (None when not known yet);
    ``window(start_s, end_s)`` the medians of :data:`LIVE_KINEMATICS` for the sensors present.
    """

    def __init__(
        self,
        sensors: tuple[tuple[str, str, str | None], ...],
        sampling_rate_hz: float,
        *,
        keep_s: float = 30.0,
        forward_after_s: float = 20.0,
    ) -> None:
        self.fs = float(sampling_rate_hz)
        self.keep_s = keep_s
        self.forward_after_s = forward_after_s
        self._wanted = {n: (p, s) for n, p, s in sensors if p in LIVE_KINEMATICS}
        self._buffers: dict[str, _SensorBuffer] = {}
        self._rows: list[tuple[float, str, float]] = []  # (stride IC time, metric, value)
        self._trunk = _Trunk()
        self.problems: list[str] = []

    @property
    def metrics(self) -> tuple[str, ...]:
        """The kinematic metrics this stream can give (by the placements present with a gyroscope)."""
        placements = {b.placement for b in self._buffers.values()}
        return tuple(m for p, ms in LIVE_KINEMATICS.items() if p in placements for m in ms)

    def buffer(self, name: str) -> _SensorBuffer | None:
        return self._buffers.get(name)

    def push(self, name: str, chunk: FloatArray) -> None:
        if name not in self._wanted or chunk.ndim != 2 or chunk.shape[1] != 6:
            return  # no gyroscope: no orientation, no kinematics (offline says the same)
        buf = self._buffers.get(name)
        if buf is None:
            placement, side = self._wanted[name]
            buf = self._buffers[name] = _SensorBuffer(
                name, placement, side, self.fs, self.keep_s, StreamingOrientation(self.fs)
            )
        buf.push(chunk)
        if buf.placement == "chest":
            self._find_trunk_axes(buf)

    def finish(self) -> None:
        for b in self._buffers.values():
            b.finish()

    def _find_trunk_axes(self, buf: _SensorBuffer) -> None:
        tr = self._trunk
        if tr.forward is not None:
            return
        d, q, first = buf.aligned()
        if first + len(q) - tr.tried_n < self.fs:  # search again once a second more has arrived
            return
        tr.tried_n = first + len(q)
        if not len(q) or not (np.isfinite(q).all() and np.isfinite(d).all()):
            return
        up = Orientation(q, self.fs, method="madgwick", gain=buf.orientation.gain).up_sensor
        if tr.axis is None:
            # wait for a stretch long enough to hold the whole upright stance (as offline sees it)
            if len(d) < min(self.keep_s, 10.0) * self.fs:
                return
            axis = upright_trunk_axis(d[:, :3], d[:, 3:], self.fs, up)
            if axis is not None:
                tr.axis, tr.axis_end_s = axis, (first + len(d)) / self.fs
            return
        # the forward axis: from the first forward_after_s of data after the upright stance
        i0 = round(tr.axis_end_s * self.fs) - first
        if i0 < 0 or len(d) - i0 < self.forward_after_s * self.fs:
            return
        fwd = horizontal_principal_axis(d[i0:, :3], tr.axis, fs=self.fs)
        lean = -np.arcsin(np.clip(up[i0:] @ fwd, -1.0, 1.0))
        tr.forward = -fwd if np.nanmean(lean) < 0 else fwd  # the runner leans forward on average
        self.problems.append(
            f"{buf.name}: trunk forward axis from the first {self.forward_after_s:g} s of movement "
            "(lean sign assumes the runner leans forward on average)"
        )

    def add_strides(self, strides: pd.DataFrame, frames: dict[str, FrameTransform | None]) -> None:
        """Compute the kinematics of ``strides`` (final; columns of ``stride_table``).

        One call of each offline function per sensor over the samples spanning all the new strides.
        """
        if not len(strides) or not self._buffers:
            return
        for buf in self._buffers.values():
            if buf.placement == "foot":
                frame = frames.get(buf.name)
                rows = strides[strides["side"] == buf.side]
                got = self._local(buf, rows, "to_s") if frame is not None else None
                if got is None:
                    continue
                d, o, local = got
                fs_ = foot_strike(d[:, :3], d[:, 3:], self.fs, frame, local, orientation=o)  # type: ignore[arg-type]
                self._keep(rows, f"foot_strike_angle_rad_{buf.side}", fs_["foot_strike_angle_rad"])
            elif buf.placement == "sacrum":
                frame = frames.get(buf.name)
                got = self._local(buf, strides, "next_ic_s") if frame is not None else None
                if got is None:
                    continue
                d, o, local = got
                po = pelvic_obliquity(d[:, :3], d[:, 3:], self.fs, frame, local, orientation=o)  # type: ignore[arg-type]
                for side in ("left", "right"):
                    sel = (strides["side"] == side).to_numpy()
                    self._keep(strides[sel], f"pelvic_drop_rad_{side}", po["pelvic_drop_rad"][sel])
                self._keep(strides, "pelvic_obliquity_range_rad", po["pelvic_obliquity_range_rad"])
            elif buf.placement == "chest":
                tr = self._trunk
                got = self._local(buf, strides, "to_s") if tr.forward is not None else None
                if got is None:
                    continue
                d, o, local = got
                lean, _ = trunk_lean(
                    d[:, :3],
                    d[:, 3:],
                    self.fs,
                    trunk_axis=tr.axis,
                    forward_axis=tr.forward,
                    stances=list(zip(local["ic_s"], local["to_s"], strict=True)),
                    orientation=o,
                )
                self._keep(strides, "trunk_lean_rad", lean)

    def _keep(self, strides: pd.DataFrame, metric: str, values: npt.ArrayLike) -> None:
        v = np.asarray(values, dtype=float)
        self._rows += [
            (t, metric, float(x)) for t, x in zip(strides["ic_s"].tolist(), v.tolist(), strict=True)
        ]

    def _local(
        self, buf: _SensorBuffer, strides: pd.DataFrame, last: str
    ) -> tuple[FloatArray, Orientation, pd.DataFrame] | None:
        """The samples and orientation spanning ``strides`` (IC to ``last``) and their times relative
        to them (None: not, or no longer, all in the buffer with a finite orientation)."""
        if not len(strides):
            return None
        got = buf.span(float(strides["ic_s"].min()), float(strides[last].max()))
        if got is None:
            return None
        d, q, i0 = got
        shift = i0 / self.fs
        local = strides.assign(
            ic_s=strides["ic_s"] - shift, to_s=strides["to_s"] - shift, next_ic_s=strides["next_ic_s"] - shift
        )
        return d, Orientation(q, self.fs, method="madgwick", gain=buf.orientation.gain), local

    def window(self, start_s: float, end_s: float) -> dict[str, float]:
        """Median of each kinematic metric over the strides with ``start_s <= IC <= end_s``."""
        horizon = start_s - 60.0
        if self._rows and self._rows[0][0] < horizon:  # bounded memory
            self._rows = [r for r in self._rows if r[0] >= horizon]
        out: dict[str, float] = {}
        for m in self.metrics:
            v = [x for t, name, x in self._rows if name == m and start_s <= t <= end_s and math.isfinite(x)]
            out[m] = float(np.median(v)) if v else math.nan
        return out
