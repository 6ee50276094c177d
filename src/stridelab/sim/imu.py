"""Synthetic IMU runner/walker with known events, balance, lean, pelvic drop and foot strike.

>>> from stridelab.sim.imu import ImuTruth, simulate_imu
>>> sim = simulate_imu(ImuTruth(activity="running", cadence_spm=170, contact_time_s=0.24), seed=1)
>>> sim.recording.sensors          # left/right foot and shank, sacrum, chest (randomly mounted)
>>> sim.events                     # the true IC/TO (time_s, side, event)

Signals are generated in each segment's body frame (pa forward, ml left, si up; specific force, so a
still sensor reads +g on the up axis), the right side is the mirror of the left through
:data:`stridelab.frames.MIRROR_LEFT_RIGHT`, and every sensor is then rotated by its own (by default
random) mounting rotation into a sensor frame. The signal features follow the published event
definitions the detectors implement (see :mod:`stridelab.gait.events`):

* foot -- sagittal pitch rate (toe-up positive) built through monotone (PCHIP) knots, so that its
  minima sit exactly at IC and TO in running (Falbriard 2018) and its zero crossing at IC / minimum at
  TO in walking; the accelerometer carries gravity rotated by the integrated pitch (consistent with the
  gyroscope, so orientation filters see a coherent foot), plus an impact at IC. The post-IC toe-down
  rotation equals the declared foot strike angle.
* shank -- impact transient after IC, braking spike, the vertical trough after TO (latencies of
  :class:`~stridelab.gait.ShankEventDetection`), a swing rotation peak.
* sacrum -- running: half-sine vertical force during each contact, free fall in flight (so the true
  vertical oscillation follows from the physics and is returned); walking: loading-response rise at IC.
  Yaw rate negative at left IC (McCamley's rule), pelvic roll with a declared drop in each stance.
* chest -- constant forward lean (declared), small step-frequency pitch oscillation, upright and still
  during the ``standing_s`` calibration at the start.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.integrate import trapezoid  # np.trapezoid needs numpy >= 2 (the floor is 1.26)
from scipy.interpolate import PchipInterpolator

from stridelab.frames import (
    BODY_FRAME_ACC,
    BODY_FRAME_GYR,
    MIRROR_LEFT_RIGHT,
    SENSOR_FRAME,
    Placement,
    Side,
    check_option,
)
from stridelab.io.imu import ImuRecording, ImuSensor
from stridelab.units import G

__all__ = [
    "ImuTruth",
    "SimulatedImu",
    "random_rotation",
    "simulate_cycling",
    "simulate_imu",
    "simulate_single_leg_stance",
    "write_phyphox",
    "write_sensor_logger",
    "write_table_with_sidecar",
]

FloatArray = npt.NDArray[np.float64]
#: the placements the simulator models.
ALL_PLACEMENTS: tuple[Placement, ...] = ("foot", "shank", "sacrum", "chest")


@dataclass(frozen=True, slots=True)
class ImuTruth:
    """Declared truth of a synthetic recording (SI: s, rad, m/s²; cadence in steps/min)."""

    activity: Literal["running", "walking"] = "running"
    cadence_spm: float = 170.0
    contact_time_s: float = 0.25
    gct_balance_left_pct: float = 50.0
    #: share (%) of each stride taken by the LEFT step (right IC → left IC); 50 = symmetric step times
    step_time_left_pct: float = 50.0
    duration_s: float = 20.0
    standing_s: float = 3.0
    sampling_rate_hz: float = 200.0
    foot_strike_angle_rad: float = math.radians(12.0)
    pelvic_drop_left_rad: float = math.radians(5.0)
    pelvic_drop_right_rad: float = math.radians(5.0)
    trunk_lean_rad: float = math.radians(8.0)
    stride_jitter: float = 0.01
    acc_noise_m_s2: float = 0.05
    gyr_noise_rad_s: float = 0.01
    placements: tuple[Placement, ...] = ALL_PLACEMENTS
    with_gyr: bool = True

    def __post_init__(self) -> None:
        check_option("activity", self.activity, ("running", "walking"))
        for p in self.placements:
            check_option("placements", p, ALL_PLACEMENTS)
        if not 0 < self.gct_balance_left_pct < 100:
            raise ValueError("gct_balance_left_pct must be in (0, 100)")
        if not 35 <= self.step_time_left_pct <= 65:
            raise ValueError("step_time_left_pct must be in [35, 65]")
        step = 60.0 / self.cadence_spm
        gct_max = (
            self.contact_time_s * 2 * max(self.gct_balance_left_pct, 100 - self.gct_balance_left_pct) / 100
        )
        if self.activity == "running" and gct_max >= step:
            raise ValueError(
                "running needs a flight phase: contact_time_s must be shorter than the step time"
            )
        if self.activity == "walking" and self.contact_time_s <= step:
            raise ValueError("walking needs double support: contact_time_s must be longer than the step time")

    @property
    def contact_time_left_s(self) -> float:
        return self.contact_time_s * 2 * self.gct_balance_left_pct / 100

    @property
    def contact_time_right_s(self) -> float:
        return self.contact_time_s * 2 * (100 - self.gct_balance_left_pct) / 100


@dataclass(slots=True)
class SimulatedImu:
    """A simulated recording, its true events (``time_s, side, event``) and derived true values."""

    truth: ImuTruth
    recording: ImuRecording
    events: pd.DataFrame
    mounting: dict[str, FloatArray]
    derived: dict[str, float] = field(default_factory=dict)

    def truth_dict(self) -> dict[str, object]:
        return {"truth": asdict(self.truth), "derived": self.derived}


def random_rotation(rng: np.random.Generator) -> FloatArray:
    """A uniformly random proper rotation matrix."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _gauss(t: FloatArray, center: float, width: float) -> FloatArray:
    return np.exp(-0.5 * ((t - center) / width) ** 2)


#: a Gaussian pulse is evaluated within ±12 widths of its centre only: beyond, its value (< 6e-32 of its
#: amplitude) is far below the double-precision resolution of the signal it is added to, so windowing
#: keeps the output (to ~1e-15) while the cost grows with the samples, not samples × events.
_GAUSS_SUPPORT_WIDTHS = 12.0


def _span(t: FloatArray, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> slice:
    """Index slice of the samples of the sorted time vector ``t`` with ``lo ≤ t ≤ hi`` (``<`` when open)."""
    i0 = int(np.searchsorted(t, lo, side="right" if lo_open else "left"))
    i1 = int(np.searchsorted(t, hi, side="left" if hi_open else "right"))
    return slice(i0, max(i0, i1))


def _spans(t: FloatArray, lo: npt.ArrayLike, hi: npt.ArrayLike) -> list[slice]:
    """:func:`_span` (closed) for many windows at once (one sorted search per boundary array)."""
    i0 = np.searchsorted(t, np.asarray(lo, dtype=float), side="left").tolist()
    i1 = np.searchsorted(t, np.asarray(hi, dtype=float), side="right").tolist()
    return [slice(a, max(a, b)) for a, b in zip(i0, i1, strict=True)]


def _add_gauss(out: FloatArray, t: FloatArray, center: float, width: float, amp: float) -> None:
    """``out += amp · gauss(t; center, width)``, evaluated on the pulse's support only."""
    sl = _span(t, center - _GAUSS_SUPPORT_WIDTHS * width, center + _GAUSS_SUPPORT_WIDTHS * width)
    out[sl] += amp * _gauss(t[sl], center, width)


def _add_gausses(out: FloatArray, t: FloatArray, centers: npt.ArrayLike, width: float, amp: float) -> None:
    """:func:`_add_gauss` for many pulses of one width and amplitude, added in the order given."""
    c = np.asarray(centers, dtype=float)
    half = _GAUSS_SUPPORT_WIDTHS * width
    lo = np.searchsorted(t, c - half, side="left")
    hi = np.searchsorted(t, c + half, side="right")
    for i0, i1, center in zip(lo.tolist(), hi.tolist(), c.tolist(), strict=True):
        out[i0:i1] += amp * _gauss(t[i0:i1], center, width)


def _event_times(truth: ImuTruth, rng: np.random.Generator) -> dict[str, tuple[FloatArray, FloatArray]]:
    step = 60.0 / truth.cadence_spm
    stride = 2 * step
    t0 = truth.standing_s + 0.3
    ics_l = [t0]
    while ics_l[-1] < truth.standing_s + truth.duration_s + stride:
        ics_l.append(ics_l[-1] + stride * (1 + truth.stride_jitter * rng.standard_normal()))
    ic_l = np.asarray(ics_l)
    share = truth.step_time_left_pct / 100.0
    ic_r = ic_l[:-1] + (np.diff(ic_l) / 2 if share == 0.5 else np.diff(ic_l) * (1.0 - share))
    return {
        "left": (ic_l, ic_l + truth.contact_time_left_s),
        "right": (ic_r, ic_r + truth.contact_time_right_s),
    }


def _moving(t: FloatArray, truth: ImuTruth, ev: dict[str, tuple[FloatArray, FloatArray]]) -> FloatArray:
    """1 while gait is on (from the first event minus half a stride), else 0."""
    start = float(min(ev["left"][0][0], ev["right"][0][0])) - 0.3
    end = truth.standing_s + truth.duration_s
    return ((t >= start) & (t <= end)).astype(float)


def _foot_pitch_rate(t: FloatArray, ic: FloatArray, to: FloatArray, truth: ImuTruth) -> FloatArray:
    """Pitch rate (toe-up positive) through PCHIP knots; its swing lobe balances the stance rotation."""
    running = truth.activity == "running"
    alpha = truth.foot_strike_angle_rad
    knots_t: list[float] = []
    knots_v: list[float] = []
    for k in range(len(ic) - 1):
        a, b, nxt = ic[k], to[k], ic[k + 1]
        swing = nxt - b
        if running:
            pts = [(a - 0.03, 0.0), (a, -1.0), (a + 0.06, 0.0), (b - 0.1, 0.0), (b, -9.0), (b + 0.04, 0.0)]
        else:
            pts = [
                (a, 0.0),
                (a + 0.05, -1.0),
                (a + 0.12, -0.05),
                (a + 0.16, 0.0),
                (b - 0.15, 0.0),
                (b, -6.0),
                (b + 0.06, 0.0),
            ]
        ms = b + swing / 2
        pts.append((ms, 1.0))  # swing amplitude scaled below
        if not running:
            pts.append((nxt - 0.02, 0.15))
        for tt, vv in pts:
            knots_t.append(tt)
            knots_v.append(vv)
    kt, kv = np.asarray(knots_t), np.asarray(knots_v)
    order = np.argsort(kt)
    kt, kv = kt[order], kv[order]
    # scale per stride: post-IC lobe area = strike angle, swing lobe area = total toe-down area
    fine = np.arange(kt[0], kt[-1], 1e-3)
    base = PchipInterpolator(kt, kv)(fine)
    out_v = kv.copy()
    # the sample windows of every stride at once (one sorted search per boundary, as _span)
    a_, b_, nxt_ = ic[:-1], to[:-1], ic[1:]
    end_ic = a_ + (0.06 if running else 0.16)

    def at(grid: FloatArray, x: FloatArray, side: Literal["left", "right"] = "left") -> list[int]:
        return [int(i) for i in np.searchsorted(grid, x, side=side)]

    f_a, f_end, f_b, f_nxt = at(fine, a_), at(fine, end_ic), at(fine, b_), at(fine, nxt_)
    k_a, k_end, k_b, k_nxt = at(kt, a_ - 1e-9), at(kt, end_ic), at(kt, b_, "right"), at(kt, nxt_)
    for k in range(len(ic) - 1):
        m_ic = slice(f_a[k], max(f_a[k], f_end[k]))
        has_ic = m_ic.stop > m_ic.start
        area_ic = -trapezoid(np.minimum(base[m_ic], 0), fine[m_ic]) if has_ic else 1.0
        sel_ic = slice(k_a[k], max(k_a[k], k_end[k]))
        out_v[sel_ic][kv[sel_ic] < 0] *= alpha / max(area_ic, 1e-9)
    base = PchipInterpolator(kt, out_v)(fine)
    for k in range(len(ic) - 1):
        m = slice(f_a[k], max(f_a[k], f_nxt[k]))
        neg = -trapezoid(np.minimum(base[m], 0), fine[m])
        ms_mask = slice(f_b[k], max(f_b[k], f_nxt[k]))
        pos = trapezoid(np.maximum(base[ms_mask], 0), fine[ms_mask])
        sel = slice(k_b[k], max(k_b[k], k_nxt[k]))
        out_v[sel][out_v[sel] > 0] *= neg / max(pos, 1e-9)
    pitch_rate = PchipInterpolator(kt, out_v, extrapolate=False)(t)
    return np.nan_to_num(np.asarray(pitch_rate, dtype=np.float64))


def _foot_body(t: FloatArray, ic: FloatArray, to: FloatArray, truth: ImuTruth, fs: float) -> FloatArray:
    w = _foot_pitch_rate(t, ic, to, truth)
    theta = np.cumsum(w) / fs
    # zero pitch (flat) at each mid-stance: remove the slow drift between strides
    mids = (ic + to) / 2
    idx = np.clip(np.round(mids * fs).astype(int), 0, len(t) - 1)
    theta -= np.interp(t, t[idx], theta[idx])
    acc = np.zeros((len(t), 3))
    acc[:, 0] = G * np.sin(theta)
    acc[:, 2] = G * np.cos(theta)
    _add_gausses(acc[:, 2], t, ic + 0.012, 0.006, 2.5 * G)
    _add_gausses(acc[:, 0], t, ic + 0.012, 0.006, -1.5 * G)
    _add_gausses(acc[:, 0], t, to + 0.03, 0.03, 1.5 * G)
    gyr = np.zeros((len(t), 3))
    gyr[:, 1] = -w  # rotation about the right axis = minus rotation about ml (left)
    return np.hstack([acc, gyr])


def _shank_body(t: FloatArray, ic: FloatArray, to: FloatArray, truth: ImuTruth) -> FloatArray:
    running = truth.activity == "running"
    acc = np.zeros((len(t), 3))
    acc[:, 2] = G
    w_imp = 0.012
    for k, (a, b) in enumerate(zip(ic, to, strict=True)):
        c = a + (0.025 if running else 0.0203) + w_imp
        _add_gauss(acc[:, 2], t, c, w_imp, (3.0 if running else 1.0) * G)
        _add_gauss(acc[:, 0], t, c, w_imp, -(2.0 if running else 1.0) * G)
        if running:
            _add_gauss(acc[:, 2], t, b + 0.028, 0.02, -1.5 * G)
        else:
            _add_gauss(acc[:, 0], t, b - 0.0562, 0.03, -1.0 * G)
        if k + 1 < len(ic):  # swing: tangential acceleration of the swinging shank
            sw = _span(t, b, ic[k + 1], lo_open=True, hi_open=True)
            acc[sw, 0] += 0.5 * G * np.sin(2 * np.pi * (t[sw] - b) / (ic[k + 1] - b))
    gyr = np.zeros((len(t), 3))
    for k in range(len(ic) - 1):
        a, b, nxt = ic[k], to[k], ic[k + 1]
        # the sagittal rotation (swing peak, strike and push-off dips) about the right axis = minus ml
        _add_gauss(gyr[:, 1], t, (b + nxt) / 2, (nxt - b) / 5, -8.0)
        _add_gauss(gyr[:, 1], t, a, 0.02, 2.0)
        _add_gauss(gyr[:, 1], t, b, 0.02, 2.5)
    return np.hstack([acc, gyr])


def _sacrum_body(
    t: FloatArray, ev: dict[str, tuple[FloatArray, FloatArray]], truth: ImuTruth, moving: FloatArray
) -> tuple[FloatArray, float]:
    running = truth.activity == "running"
    f = np.zeros(len(t))
    if running:
        step = 60.0 / truth.cadence_spm
        contacts = [(a, b) for side in ("left", "right") for a, b in zip(*ev[side], strict=True)]
        windows = _spans(t, [a for a, _ in contacts], [b for _, b in contacts])
        for (a, b), m in zip(contacts, windows, strict=True):
            d = (b - a) / step
            f[m] += (G * math.pi / (2 * d)) * np.sin(np.pi * (t[m] - a) / (b - a))
            _add_gauss(f, t, a + 0.012, 0.006, 0.8 * G)  # heel-strike transient
        f = np.where(moving > 0, f, G)
    else:
        f[:] = G
        for side, other in (("left", "right"), ("right", "left")):
            other_to = ev[other][1]  # sorted
            for a in ev[side][0]:
                _add_gauss(f, t, a + 0.04, 0.04, 3.0)
                k = int(np.searchsorted(other_to, a, side="right"))  # the first TO of the other foot after a
                if k < len(other_to):
                    _add_gauss(f, t, other_to[k], 0.03, -2.0)
        f = np.where(moving > 0, f - (f[moving > 0].mean() - G), G)
    # pelvic roll (left side up positive): up during left stance (right hip drops), down in right stance
    roll = np.zeros(len(t))
    for side, drop in (("left", truth.pelvic_drop_left_rad), ("right", truth.pelvic_drop_right_rad)):
        sign = 1.0 if side == "left" else MIRROR_LEFT_RIGHT["gyr_pa"]
        for a, b, m in zip(*ev[side], _spans(t, *ev[side]), strict=True):
            roll[m] += sign * drop * np.sin(np.pi * (t[m] - a) / (b - a)) ** 2
    fs = 1.0 / (t[1] - t[0])
    roll_rate = np.gradient(roll) * fs
    stride = 120.0 / truth.cadence_spm
    yaw_rate = -0.5 * np.cos(2 * np.pi * (t - ev["left"][0][0]) / stride) * moving
    # horizontal accelerations: braking then propulsion in each stance, and the lateral push toward
    # the midline (to the right in left stance: a_ml < 0 with ml pointing left)
    a_pa = np.zeros(len(t))
    a_ml = np.zeros(len(t))
    amp = 3.0 if running else 1.5
    for side in ("left", "right"):
        lat = -1.0 if side == "left" else 1.0
        for a, b, m in zip(*ev[side], _spans(t, *ev[side]), strict=True):
            ph = (t[m] - a) / (b - a)
            a_pa[m] += -amp * np.sin(2 * np.pi * ph)
            a_ml[m] += lat * 1.0 * np.sin(np.pi * ph)
    acc = np.column_stack([a_pa, f * np.sin(roll) + a_ml, f * np.cos(roll)])
    gyr = np.column_stack([roll_rate, np.zeros(len(t)), yaw_rate])
    vo = float("nan")
    if running and len(ev["left"][0]) >= 6:
        sel = (t > ev["left"][0][2]) & (t < ev["left"][0][-3])
        z_acc = f[sel] - G
        vel = np.cumsum(z_acc - z_acc.mean()) / fs
        z = np.cumsum(vel - vel.mean()) / fs
        # peak-to-peak per step from the detrended displacement
        step_n = round(60.0 / truth.cadence_spm * fs)
        n_win = len(range(0, len(z) - step_n, step_n))  # consecutive whole steps
        vals = np.ptp(z[: n_win * step_n].reshape(n_win, step_n), axis=1)
        vo = float(np.median(vals))
    return np.hstack([acc, gyr]), vo


def _chest_body(t: FloatArray, truth: ImuTruth, moving: FloatArray) -> FloatArray:
    fs = 1.0 / (t[1] - t[0])
    step = 60.0 / truth.cadence_spm
    lam = moving * (truth.trunk_lean_rad + 0.02 * np.sin(2 * np.pi * t / step))
    # smooth the lean onset over 0.5 s so the orientation filter can follow
    kern = np.ones(int(0.5 * fs)) / int(0.5 * fs)
    lam = np.convolve(lam, kern, mode="same")
    f = G * (1 + 0.4 * moving * np.sin(2 * np.pi * t / step))
    acc = np.column_stack([-f * np.sin(lam), np.zeros(len(t)), f * np.cos(lam)])
    gyr = np.column_stack([np.zeros(len(t)), np.gradient(lam) * fs, np.zeros(len(t))])
    return np.hstack([acc, gyr])


def _to_sensor(
    body: FloatArray, rotation: FloatArray, rng: np.random.Generator, truth: ImuTruth
) -> pd.DataFrame:
    acc = body[:, :3] @ rotation.T + truth.acc_noise_m_s2 * rng.standard_normal((len(body), 3))
    gyr = body[:, 3:] @ rotation.T + truth.gyr_noise_rad_s * rng.standard_normal((len(body), 3))
    df = pd.DataFrame(np.hstack([acc, gyr]), columns=list(SENSOR_FRAME))
    return df if truth.with_gyr else df[["acc_x", "acc_y", "acc_z"]]


def _mirror(body: FloatArray) -> FloatArray:
    factors = np.array([MIRROR_LEFT_RIGHT[c] for c in (*BODY_FRAME_ACC, *BODY_FRAME_GYR)], dtype=np.float64)
    return body * factors


def simulate_imu(
    truth: ImuTruth | None = None,
    *,
    seed: int = 0,
    mounting: dict[str, FloatArray] | None = None,
) -> SimulatedImu:
    """Simulate the sensors of ``truth.placements`` (feet and shanks on both sides) with known events.

    ``mounting`` maps a sensor name (``left_foot``, ``sacrum`` ...) to its body→sensor rotation; missing
    names get a random rotation from ``seed``.
    """
    truth = truth or ImuTruth()
    rng = np.random.default_rng(seed)
    fs = truth.sampling_rate_hz
    n = int((truth.standing_s + truth.duration_s + 0.5) * fs)
    t = np.arange(n) / fs
    ev = _event_times(truth, rng)
    moving = _moving(t, truth, ev)
    end = truth.standing_s + truth.duration_s
    for foot in ev:
        ic, to = ev[foot]
        keep = to < end - 0.05
        ev[foot] = (ic[keep], to[keep])
    mount = dict(mounting or {})
    sensors: list[ImuSensor] = []
    derived: dict[str, float] = {}
    for placement in truth.placements:
        sides: tuple[Side | None, ...] = ("left", "right") if placement in ("foot", "shank") else (None,)
        for side in sides:
            name = f"{side}_{placement}" if side else placement
            rot = mount.setdefault(name, random_rotation(rng))
            if placement in ("foot", "shank"):
                assert side is not None
                ic, to = ev[side]
                body = (
                    _foot_body(t, ic, to, truth, fs) if placement == "foot" else _shank_body(t, ic, to, truth)
                )
                if side == "right":
                    body = _mirror(body)
            elif placement == "sacrum":
                body, vo = _sacrum_body(t, ev, truth, moving)
                derived["vertical_oscillation_m"] = vo
            else:
                body = _chest_body(t, truth, moving)
            sensors.append(ImuSensor(name, placement, side, _to_sensor(body, rot, rng, truth), fs))
    rows = [
        (float(x), side, kind)
        for side, (ic, to) in ev.items()
        for kind, arr in (("IC", ic), ("TO", to))
        for x in arr
    ]
    events = pd.DataFrame(rows, columns=["time_s", "side", "event"]).sort_values(["time_s", "event"])
    events = events.reset_index(drop=True)
    rec = ImuRecording(tuple(sensors), source_path=None, activity=truth.activity)
    return SimulatedImu(truth=truth, recording=rec, events=events, mounting=mount, derived=derived)


def simulate_single_leg_stance(
    *,
    side: Side = "left",
    duration_s: float = 30.0,
    sway_rms_m_s2: float = 0.15,
    touchdown_s: float | None = None,
    sampling_rate_hz: float = 100.0,
    seed: int = 0,
) -> tuple[ImuSensor, dict[str, float]]:
    """A waist IMU during a single-leg stand: band-limited horizontal sway of the given RMS and an
    optional touch-down of the lifted foot (a vertical impact) at ``touchdown_s``."""
    check_option("side", side, ("left", "right"))
    rng = np.random.default_rng(seed)
    fs = sampling_rate_hz
    n = int(duration_s * fs)
    t = np.arange(n) / fs
    raw = rng.standard_normal((n, 2))
    spec = np.fft.rfft(raw, axis=0)
    freqs = np.fft.rfftfreq(n, 1 / fs)
    spec[(freqs < 0.1) | (freqs > 2.0)] = 0
    sway = np.fft.irfft(spec, n, axis=0)
    sway -= sway.mean(axis=0)
    sway *= np.array([1.0, 0.6])
    sway *= sway_rms_m_s2 / np.sqrt(np.mean(np.sum(sway**2, axis=1)))
    body = np.column_stack([sway[:, 0], sway[:, 1], np.full(n, G)])
    if touchdown_s is not None:
        _add_gauss(body[:, 2], t, touchdown_s + 0.02, 0.015, 6.0)
    rot = random_rotation(rng)
    data = pd.DataFrame(
        body @ rot.T + 0.01 * rng.standard_normal((n, 3)), columns=["acc_x", "acc_y", "acc_z"]
    )
    sensor = ImuSensor("sacrum", "sacrum", side, data, fs)
    return sensor, {"sway_rms_m_s2": sway_rms_m_s2, "time_to_touchdown_s": touchdown_s or duration_s}


def simulate_cycling(
    *, duration_s: float = 20.0, cadence_rpm: float = 85.0, sampling_rate_hz: float = 100.0, seed: int = 0
) -> pd.DataFrame:
    """A shank IMU while pedalling: smooth periodic rotation, no foot-ground impacts (a bad-input case)."""
    rng = np.random.default_rng(seed)
    fs = sampling_rate_hz
    t = np.arange(int(duration_s * fs)) / fs
    phase = 2 * np.pi * cadence_rpm / 60 * t
    theta = 0.5 * np.sin(phase)
    acc = np.column_stack(
        [G * np.sin(theta) + 1.0 * np.cos(phase), 0.2 * np.sin(2 * phase), G * np.cos(theta)]
    )
    gyr = np.column_stack(
        [np.zeros_like(t), 0.5 * 2 * np.pi * cadence_rpm / 60 * np.cos(phase), np.zeros_like(t)]
    )
    rot = random_rotation(rng)
    body = np.hstack([acc @ rot.T, gyr @ rot.T]) + 0.02 * rng.standard_normal((len(t), 6))
    return pd.DataFrame(body, columns=list(SENSOR_FRAME))


def write_sensor_logger(
    sensor: ImuSensor,
    folder: str | Path,
    *,
    jitter_s: float = 0.002,
    seed: int = 0,
    start_ns: int = 1_763_700_000_000_000_000,
) -> Path:
    """Write ``sensor`` as a Sensor Logger export (TotalAcceleration.csv, Gyroscope.csv) with jittery,
    separately sampled timestamps, as the app does."""
    rng = np.random.default_rng(seed)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    fs = sensor.sampling_rate_hz
    t = np.arange(len(sensor.data)) / fs
    for fname, cols in (
        ("TotalAcceleration.csv", ("acc_x", "acc_y", "acc_z")),
        ("Gyroscope.csv", ("gyr_x", "gyr_y", "gyr_z")),
    ):
        if not all(c in sensor.data.columns for c in cols):
            continue
        tj = np.sort(t + rng.uniform(-jitter_s, jitter_s, len(t)))
        vals = np.column_stack([np.interp(tj, t, sensor.data[c].to_numpy()) for c in cols])
        df = pd.DataFrame(
            {
                "time": (start_ns + np.round(tj * 1e9)).astype(np.int64),
                "seconds_elapsed": tj,
                "z": vals[:, 2],
                "y": vals[:, 1],
                "x": vals[:, 0],
            }
        )
        df.to_csv(out / fname, index=False)
    return out


def write_phyphox(sensor: ImuSensor, folder: str | Path, *, jitter_s: float = 0.002, seed: int = 0) -> Path:
    """Write ``sensor`` as a phyphox CSV export (Accelerometer.csv, Gyroscope.csv)."""
    rng = np.random.default_rng(seed)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    fs = sensor.sampling_rate_hz
    t = np.arange(len(sensor.data)) / fs
    specs = (
        ("Accelerometer.csv", "Acceleration", "m/s^2", ("acc_x", "acc_y", "acc_z")),
        ("Gyroscope.csv", "Gyroscope", "rad/s", ("gyr_x", "gyr_y", "gyr_z")),
    )
    for fname, label, unit, cols in specs:
        if not all(c in sensor.data.columns for c in cols):
            continue
        tj = np.sort(t + rng.uniform(-jitter_s, jitter_s, len(t)))
        tj -= tj[0]
        data = {"Time (s)": tj}
        for axis, c in zip("xyz", cols, strict=True):
            data[f"{label} {axis} ({unit})"] = np.interp(tj, t, sensor.data[c].to_numpy())
        pd.DataFrame(data).to_csv(out / fname, index=False)
    return out


def write_table_with_sidecar(recording: ImuRecording, path: str | Path) -> Path:
    """Write all sensors as one table (CSV for a ``.csv`` path, else Parquet; acc in m/s², gyr in deg/s,
    time in ms) and the JSON sidecar ``<stem>.imu.json`` that declares its columns, units and
    placements (docs/imu.md).

    All sensors must share one sampling rate. Returns the data file's path.
    """
    import json

    path = Path(path)
    rates = {s.sampling_rate_hz for s in recording.sensors}
    if len(rates) != 1:
        raise ValueError(f"write_table_with_sidecar needs one sampling rate for all sensors, got {rates}")
    n = min(len(s.data) for s in recording.sensors)
    table = pd.DataFrame({"time_ms": np.arange(n) * 1000.0 / rates.pop()})
    sensors = []
    for s in recording.sensors:
        columns = {}
        for axis in ("x", "y", "z"):
            table[f"{s.name}_a{axis}"] = s.data[f"acc_{axis}"].to_numpy()[:n]
            columns[f"acc_{axis}"] = f"{s.name}_a{axis}"
            if s.has_gyr:
                table[f"{s.name}_g{axis}"] = np.rad2deg(s.data[f"gyr_{axis}"].to_numpy()[:n])
                columns[f"gyr_{axis}"] = f"{s.name}_g{axis}"
        entry: dict[str, object] = {"name": s.name, "placement": s.placement, "columns": columns}
        if s.side is not None:
            entry["side"] = s.side
        if s.has_gyr:
            entry["gyr_unit"] = "deg/s"
        sensors.append(entry)
    if path.suffix.lower() in (".csv", ".txt"):
        table.to_csv(path, index=False)
    else:
        table.to_parquet(path)
    spec: dict[str, object] = {"time": {"column": "time_ms", "unit": "ms"}, "sensors": sensors}
    if recording.activity is not None:
        spec["activity"] = recording.activity
    path.with_name(path.stem + ".imu.json").write_text(json.dumps(spec, indent=2), encoding="utf-8")
    return path
