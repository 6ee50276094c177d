"""Input validation for raw IMU data: units, gaps, clipping, a still or fallen sensor, non-gait motion.

Fatal problems raise :class:`ImuDataError` with a message that says what is wrong and what to do; the
recoverable ones (clipping, a sensor that moved on the body part-way) are returned as ``problems`` that
the algorithms copy into their ``problems_`` result so that they are shown to the user, never dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.frames import SENSOR_FRAME_ACC, SENSOR_FRAME_GYR, Placement
from stridelab.gait._kernels import clip_scan, rolling_std_centered, select_rows
from stridelab.gait._signal import _COMPILED_FROM, bandpass, dominant_period_s, lowpass, row_norm, runs
from stridelab.units import G

__all__ = ["CheckedData", "ImuDataError", "check_imu_data"]

MIN_DURATION_S = 3.0
#: |gyr| above this (rad/s, ≈2900 deg/s) is beyond any human segment: the data are in deg/s.
MAX_PLAUSIBLE_GYR_RAD_S = 50.0
#: the trunk (lower back, chest) turns far slower than a foot: walking and running stay below ~5 rad/s,
#: while the same signal in deg/s reads 30-250 "rad/s" (mobgap lower-back walks: 77-135 at the 99.9th
#: percentile), so 50 rad/s would let a slow walk in deg/s through.
MAX_PLAUSIBLE_TRUNK_GYR_RAD_S = 15.0


class ImuDataError(ValueError):
    """The IMU data cannot be analysed as given (wrong units, gaps, no gait ...)."""


@dataclass(frozen=True, slots=True)
class CheckedData:
    acc: npt.NDArray[np.float64]
    gyr: npt.NDArray[np.float64] | None
    fs: float
    problems: tuple[str, ...]
    moving: npt.NDArray[np.bool_]

    def keep_moving(
        self, ic_s: npt.NDArray[np.float64], to_s: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Drop events that fall where the sensor was not moving (pauses, a fallen sensor)."""

        def ok(t: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
            idx = np.clip(np.round(np.asarray(t) * self.fs).astype(int), 0, len(self.moving) - 1)
            return self.moving[idx] if len(idx) else np.zeros(0, dtype=bool)

        return np.asarray(ic_s)[ok(ic_s)], np.asarray(to_s)[ok(to_s)]


def _clipping(acc: npt.NDArray[np.float64]) -> str | None:
    """Report flat-topped impacts: ≥2 consecutive samples at the axis' extreme value (|a| ≥ 2 g)."""
    notes = []
    if len(acc) >= _COMPILED_FROM:  # the same extremes, counts and runs in one compiled pass per axis
        scan = clip_scan(acc, 2 * G)
        for k, name in enumerate(SENSOR_FRAME_ACC):
            for extreme, count, longest in (scan[k, :3], scan[k, 3:]):
                if count >= 0 and (longest >= 2 or count >= 5):
                    notes.append(f"{name} at {extreme / G:+.2f} g ({int(count)} samples)")
    for k, name in enumerate(SENSOR_FRAME_ACC if len(acc) < _COMPILED_FROM else ()):
        col = acc[:, k]
        for extreme in (np.nanmax(col), np.nanmin(col)):
            if abs(extreme) < 2 * G:
                continue
            at = np.abs(col - extreme) <= 1e-9  # np.isclose(rtol=0, atol=1e-9) for finite data
            longest = max((b - a for a, b in runs(at)), default=0)
            count = int(at.sum())
            if longest >= 2 or count >= 5:
                notes.append(f"{name} at {extreme / G:+.2f} g ({count} samples)")
    if not notes:
        return None
    return (
        "accelerometer saturates/clips (" + "; ".join(notes) + "): impact peaks are flattened, so impact "
        "magnitudes are underestimated; event timing uses the rising edge and is less affected"
    )


def _percentile_above(x: npt.NDArray[np.float64], q: float, limit: float) -> bool:
    """``np.percentile(x, q) > limit`` (finite ``x``), mostly from a count instead of a partial sort.

    With the values sorted, the percentile lies between the two order statistics around rank
    ``h = q/100 · (n − 1)`` (numpy's linear interpolation never leaves that interval): when both are
    above ``limit`` (enough values above it) the answer is yes, when both are at or below it no; only
    when ``limit`` falls between them (or ``h`` is too close to an integer to be sure of the ranks) is
    the percentile computed.
    """
    n = x.size
    if n == 0:
        return False
    f = math.floor(q / 100.0 * (n - 1))
    above = int(np.count_nonzero(x > limit))
    if above >= n - (f - 1):  # the values of rank ≥ f - 1 are all above the limit
        return True
    if above <= n - (f + 1) - 2:  # the values of rank ≤ f + 2 are all at or below it
        return False
    return bool(float(np.percentile(x, q)) > limit)


def _median_between(x: npt.NDArray[np.float64], lo: float, hi: float) -> bool:
    """True when ``lo < np.median(x) < hi`` for certain, from two counts (no sort): the median lies
    between the two middle order statistics (ranks ``(n - 1) // 2`` and ``n // 2``), so when both are
    inside the interval, so is the median. False means "not sure": compute the median."""
    n = x.size
    if n == 0:
        return False
    above_lo = n if lo == -math.inf else int(np.count_nonzero(x > lo))
    below_hi = int(np.count_nonzero(x < hi))
    return above_lo >= n - (n - 1) // 2 and below_hi >= n // 2 + 1


def _impact_ratio(hf: npt.NDArray[np.float64], lf: npt.NDArray[np.float64], below: float) -> float:
    """``np.percentile(hf, 99) / max(np.percentile(lf, 99), 1e-9)`` when it is below ``below``, else that
    value or ``inf``: when ``hf``'s percentile is above ``below`` times the denominator (with a margin for
    the division's rounding) a count decides, without sorting ``hf``."""
    lf99 = max(float(np.percentile(lf, 99)), 1e-9)
    if _percentile_above(hf, 99, below * lf99 * (1.0 + 1e-9)):
        return math.inf
    return float(np.percentile(hf, 99) / lf99)


def _check_gravity(mean_vec: float, med: float) -> None:
    """The unit tests on the gravity reading: ``mean_vec`` is the median magnitude of the slow part of
    the acceleration, ``med`` the median magnitude of the acceleration."""
    if mean_vec < 0.3 * max(med, 1e-12) or mean_vec < 0.3:
        raise ImuDataError(
            f"acceleration does not contain gravity (slow part {mean_vec:.2f}, median magnitude {med:.2f}); "
            "the engine needs total acceleration (gravity included), not linear/user acceleration"
        )
    if 0.5 < mean_vec < 2.0:
        raise ImuDataError(
            f"acceleration looks like it is in g (gravity reads {mean_vec:.2f}), not m/s²; "
            "declare acc_unit='g' (CLI: --acc-unit g; or multiply by 9.80665)"
        )
    if 500 < mean_vec < 2000:
        raise ImuDataError(
            f"acceleration looks like it is in mg (gravity reads {mean_vec:.0f}); declare acc_unit='mg' "
            "(CLI: --acc-unit mg)"
        )
    if 50.0 < mean_vec < 150.0:
        raise ImuDataError(
            f"gravity reads {mean_vec:.1f} ≈ 9.81 × 9.81: the data are already in m/s² but were declared "
            "in g (converted twice); declare acc_unit='m/s^2' (CLI: --acc-unit m/s^2)"
        )
    if not 5.0 < mean_vec < 15.0:
        raise ImuDataError(
            f"gravity reads {mean_vec:.2f} instead of ≈9.81 m/s²: unknown accelerometer unit or scaling"
        )


def check_imu_data(data: pd.DataFrame, sampling_rate_hz: float, placement: Placement) -> CheckedData:
    """Validate sensor-frame data (see the module docstring). Returns arrays in SI and the problems."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    # numpy scalars (np.int64 from a table, np.float32) are numbers too; bools are not rates
    valid = (
        isinstance(sampling_rate_hz, int | float | np.integer | np.floating)
        and not isinstance(sampling_rate_hz, bool | np.bool_)
        and bool(np.isfinite(sampling_rate_hz))
    )
    if not (valid and sampling_rate_hz > 0):
        raise ValueError(f"sampling_rate_hz must be a positive number, got {sampling_rate_hz!r}")
    fs = float(sampling_rate_hz)
    if fs < 40:
        raise ImuDataError(f"sampling rate {fs:g} Hz is too low for gait events; at least 40 Hz is needed")
    missing = [c for c in SENSOR_FRAME_ACC if c not in data.columns]
    if missing:
        raise ValueError(
            f"data is missing the accelerometer columns {missing}; expected acc_x, acc_y, acc_z in m/s² "
            f"(got columns {list(data.columns)})"
        )
    acc = data[list(SENSOR_FRAME_ACC)].to_numpy(dtype=float)
    has_gyr = all(c in data.columns for c in SENSOR_FRAME_GYR)
    gyr = data[list(SENSOR_FRAME_GYR)].to_numpy(dtype=float) if has_gyr else None
    problems: list[str] = []
    n = len(acc)
    if n < MIN_DURATION_S * fs:
        raise ImuDataError(
            f"recording is {n / fs:.1f} s long; at least {MIN_DURATION_S:.0f} s (a few strides) are needed"
        )
    if not (np.isfinite(acc).all() and (gyr is None or np.isfinite(gyr).all())):
        bad = ~np.isfinite(acc).all(axis=1)
        if gyr is not None:
            bad |= ~np.isfinite(gyr).all(axis=1)
        spans = runs(bad)
        desc = ", ".join(f"{a / fs:.2f}–{b / fs:.2f} s" for a, b in spans[:5])
        raise ImuDataError(
            f"data contain {int(bad.sum())} missing samples (gaps at {desc}"
            f"{' …' if len(spans) > 5 else ''}); analyse the parts between the gaps separately"
        )
    mag = row_norm(acc)
    # ≈ gravity whatever the motion: magnitude of the slowly varying part of the specific force
    slow_norm = row_norm(lowpass(acc, 0.5, fs))
    # the usual case, decided from counts (no sort): gravity reads 5-15 and the magnitude's median is
    # below 16, so none of the unit tests can fire (0.3 · 16 < 5); otherwise the medians decide
    if not (_median_between(slow_norm, 5.0, 15.0) and _median_between(mag, -math.inf, 16.0)):
        _check_gravity(float(np.median(slow_norm)), float(np.median(mag)))
    gyr_limit = MAX_PLAUSIBLE_TRUNK_GYR_RAD_S if placement in ("sacrum", "chest") else MAX_PLAUSIBLE_GYR_RAD_S
    if gyr is not None and _percentile_above(np.abs(gyr), 99.9, gyr_limit):
        raise ImuDataError(
            f"angular velocity reaches {np.abs(gyr).max():.0f} rad/s: it looks like deg/s; declare "
            "gyr_unit='deg/s' (CLI: --gyr-unit deg/s; or convert to rad/s)"
        )
    clip = _clipping(acc)
    if clip:
        problems.append(clip)
    # motion: standing still / sensor removed
    dyn = row_norm(bandpass(acc, 0.5, min(15.0, 0.4 * fs), fs))
    win = int(fs)
    if len(dyn) >= _COMPILED_FROM:  # the same values, bitwise, in one compiled pass
        moving_level = rolling_std_centered(dyn, win)
    else:
        moving_level = pd.Series(dyn).rolling(win, center=True, min_periods=1).std().to_numpy()
    moving = moving_level > 0.3
    if moving.mean() < 0.2:
        raise ImuDataError(
            "no gait found: the sensor is (almost) still for most of the recording "
            "(standing, sitting, or not worn)"
        )
    for a, b in runs(~moving):
        if (b - a) / fs >= 5.0 and a > 0:
            problems.append(
                f"no movement from {a / fs:.1f} s to {b / fs:.1f} s (pause, or the sensor fell off); "
                "no events there"
            )
    quarter = n // 4
    up_first = acc[:quarter].mean(axis=0)
    up_last = acc[-quarter:].mean(axis=0)
    if np.linalg.norm(up_first) > 0 and np.linalg.norm(up_last) > 0:
        c = up_first @ up_last / (np.linalg.norm(up_first) * np.linalg.norm(up_last))
        angle = float(np.degrees(np.arccos(np.clip(c, -1, 1))))
        if angle > 30:
            problems.append(
                f"the sensor's orientation relative to gravity changed by {angle:.0f}° between the first and "
                "last quarter (loose or fallen sensor?); results after the change are unreliable"
            )
    # periodic movement without impacts = not gait (cycling, a sensor in a swinging bag ...)
    active = select_rows(acc, moving) if n >= _COMPILED_FROM else acc[moving]  # the same C-ordered copy
    period, strength = dominant_period_s(lowpass(row_norm(active), 6.0, fs), fs, 0.25, 2.5)
    # (the impact ratio matters only for a strongly periodic signal: not computed otherwise)
    if placement in ("foot", "shank") and np.isfinite(period) and strength > 0.3:
        hf = row_norm(bandpass(active, min(8.0, 0.3 * fs), min(25.0, 0.45 * fs), fs))
        lf = row_norm(bandpass(active, 0.3, 4.0, fs))
        ratio = _impact_ratio(hf, lf, 0.25)
        if ratio < 0.25:
            raise ImuDataError(
                "periodic movement without foot-ground impacts (ratio of impact to movement acceleration "
                f"{ratio:.2f}): this looks like cycling or another non-gait activity, not walking/running"
            )
    if placement == "sacrum":
        up = np.mean(active, axis=0)
        vertical = bandpass(active @ (up / np.linalg.norm(up)), 0.5, 4.0, fs)
        rms = float(np.sqrt(np.mean(vertical**2)))
        if rms < 0.4:
            raise ImuDataError(
                f"the trunk hardly bounces (vertical acceleration RMS {rms:.2f} m/s²): no walking or "
                "running steps (cycling, sitting, or the sensor is not on the body?)"
            )
    return CheckedData(acc=acc, gyr=gyr, fs=fs, problems=tuple(problems), moving=moving)
