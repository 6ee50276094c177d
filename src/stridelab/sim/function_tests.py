"""Synthetic lower-back signals of the function tests, with known truth.

>>> from stridelab.sim.function_tests import simulate_sit_to_stand, simulate_tandem_walk
>>> sensor, truth = simulate_sit_to_stand(rise_s=1.2, seed=1)      # five rises, truth["duration_s"]
>>> sensor, truth = simulate_tandem_walk(off_line_steps=(4,), seed=2)

Body frame as in :mod:`stridelab.sim.imu` (pa forward, ml left, si up; specific force, a still sensor
reads +g up), rotated by a random mounting into the sensor frame, with white noise.

* **Sit-to-stand** -- the trunk flexes forward (a raised-cosine bump of ``flexion_rad``) during every
  rise and every sit; the centre of mass rises ``rise_height_m`` in the second half of a rise
  (after seat-off) and lowers in the first two thirds of a sit (minimum-jerk profiles, so the vertical
  acceleration is their second derivative); seated, the pelvis tilts back by ``seated_tilt_rad``.
  Truth: rise onsets and ends (the flexion bump's edges), duration = first onset to the end of the
  fifth rise.
* **Tandem walk** -- one contact per step (a loading-response rise of the vertical acceleration), the
  yaw rate negative at left contacts (McCamley's rule, as the walking simulator), a small lateral sway
  at the stride frequency, and for each step in ``off_line_steps`` a corrective lateral jolt.
  Truth: contact times, sides, steps off the line, step times per side, duration = first to last
  contact plus one median step time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from stridelab.frames import SENSOR_FRAME, Side, check_option
from stridelab.io.imu import ImuSensor
from stridelab.sim.imu import FloatArray, random_rotation
from stridelab.units import G

__all__ = ["simulate_sit_to_stand", "simulate_tandem_walk"]


def _min_jerk(s: FloatArray) -> FloatArray:
    """Minimum-jerk 0→1 profile of the normalised time ``s`` (clipped to [0, 1])."""
    s = np.clip(s, 0.0, 1.0)
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def _sensor(
    body: FloatArray, rng: np.random.Generator, fs: float, with_gyr: bool, side: Side | None
) -> ImuSensor:
    rot = random_rotation(rng)
    acc = body[:, :3] @ rot.T + 0.05 * rng.standard_normal((len(body), 3))
    gyr = body[:, 3:] @ rot.T + 0.01 * rng.standard_normal((len(body), 3))
    df = pd.DataFrame(np.hstack([acc, gyr]), columns=list(SENSOR_FRAME))
    if not with_gyr:
        df = df[["acc_x", "acc_y", "acc_z"]]
    return ImuSensor("sacrum", "sacrum", side, df, fs)


def simulate_sit_to_stand(
    *,
    rises: int = 5,
    rise_s: float = 1.2,
    sit_s: float = 1.4,
    standing_pause_s: float = 0.3,
    seated_pause_s: float = 0.3,
    flexion_rad: float = 0.6,
    rise_height_m: float = 0.4,
    seated_tilt_rad: float = 0.15,
    sampling_rate_hz: float = 100.0,
    with_gyr: bool = True,
    seed: int = 0,
) -> tuple[ImuSensor, dict[str, object]]:
    """A waist IMU through ``rises`` sit-to-stand-to-sit cycles (the last ends standing)."""
    if rises < 1 or min(rise_s, sit_s) < 0.5:
        raise ValueError("rises must be ≥ 1 and rise_s, sit_s ≥ 0.5 s")
    rng = np.random.default_rng(seed)
    fs = sampling_rate_hz
    lead, tail = 2.0 + rng.uniform(0, 1), 2.5
    onsets = []
    t0 = lead
    for _ in range(rises):
        onsets.append(t0)
        t0 += rise_s + standing_pause_s + sit_s + seated_pause_s
    n = int((onsets[-1] + rise_s + tail) * fs)
    t = np.arange(n) / fs
    flex = np.zeros(n)
    z = np.zeros(n)
    seated = np.ones(n)
    for k, a in enumerate(onsets):
        r = (t >= a) & (t <= a + rise_s)
        flex[r] += flexion_rad * 0.5 * (1 - np.cos(2 * np.pi * (t[r] - a) / rise_s))
        z += rise_height_m * _min_jerk((t - a - 0.4 * rise_s) / (0.6 * rise_s))
        seated -= _min_jerk((t - a - 0.3 * rise_s) / (0.5 * rise_s))
        if k < rises - 1:
            b = a + rise_s + standing_pause_s
            s_ = (t >= b) & (t <= b + sit_s)
            flex[s_] += flexion_rad * 0.5 * (1 - np.cos(2 * np.pi * (t[s_] - b) / sit_s))
            z -= rise_height_m * _min_jerk((t - b) / (0.7 * sit_s))
            seated += _min_jerk((t - b - 0.4 * sit_s) / (0.5 * sit_s))
    pitch = flex - seated_tilt_rad * seated  # forward flexion positive; seated, the pelvis tilts back
    a_up = np.gradient(np.gradient(z) * fs) * fs
    f_up = G + a_up
    acc = np.column_stack([-f_up * np.sin(pitch), np.zeros(n), f_up * np.cos(pitch)])
    gyr = np.column_stack([np.zeros(n), np.gradient(pitch) * fs, np.zeros(n)])
    sensor = _sensor(np.hstack([acc, gyr]), rng, fs, with_gyr, None)
    ends = [a + rise_s for a in onsets]
    truth: dict[str, object] = {
        "rises": rises,
        "rise_onset_s": onsets,
        "rise_end_s": ends,
        "duration_s": ends[-1] - onsets[0],
    }
    return sensor, truth


def simulate_tandem_walk(
    *,
    steps: int = 10,
    step_left_s: float = 0.9,
    step_right_s: float = 0.9,
    off_line_steps: tuple[int, ...] = (),
    first_side: Side = "left",
    sampling_rate_hz: float = 100.0,
    with_gyr: bool = True,
    seed: int = 0,
) -> tuple[ImuSensor, dict[str, object]]:
    """A waist IMU during a tandem walk of ``steps`` steps; step ``k`` (0-based) in ``off_line_steps``
    needs a corrective lateral movement. The step time of a step belongs to the side that lands."""
    check_option("first_side", first_side, ("left", "right"))
    if steps < 3:
        raise ValueError("a tandem walk needs at least 3 steps")
    bad = [k for k in off_line_steps if not 0 <= k < steps]
    if bad:
        raise ValueError(f"off_line_steps {bad} outside 0..{steps - 1}")
    rng = np.random.default_rng(seed)
    fs = sampling_rate_hz
    other: Side = "right" if first_side == "left" else "left"
    sides: list[Side] = [first_side if k % 2 == 0 else other for k in range(steps)]
    ic = [2.0 + rng.uniform(0, 0.5)]
    for k in range(1, steps):
        base = step_left_s if sides[k] == "left" else step_right_s
        ic.append(ic[-1] + base * (1 + 0.02 * rng.standard_normal()))
    ic_arr = np.asarray(ic)
    n = int((ic_arr[-1] + 2.5) * fs)
    t = np.arange(n) / fs
    walking = ((t > ic_arr[0] - 0.4) & (t < ic_arr[-1] + 0.6)).astype(float)
    f_up = np.full(n, G)
    a_pa = np.zeros(n)
    a_ml = np.zeros(n)
    for k, a in enumerate(ic_arr.tolist()):
        f_up += 2.0 * np.exp(-0.5 * ((t - a - 0.05) / 0.05) ** 2)
        f_up -= 1.0 * np.exp(-0.5 * ((t - a - 0.35) / 0.08) ** 2)
        a_pa -= 0.6 * np.exp(-0.5 * ((t - a - 0.08) / 0.06) ** 2)
        lateral = -1.0 if sides[k] == "left" else 1.0  # toward the midline over the stance foot
        a_ml += lateral * 0.3 * np.exp(-0.5 * ((t - a - 0.3) / 0.15) ** 2)
        if k in off_line_steps:
            a_ml += rng.choice([-1.0, 1.0]) * 2.5 * np.exp(-0.5 * ((t - a - 0.2) / 0.08) ** 2)
    # yaw: phase π per step, left contacts at even multiples of π (yaw −A there: McCamley's LEFT)
    phase0 = 0.0 if first_side == "left" else math.pi
    phase = np.interp(t, ic_arr, phase0 + math.pi * np.arange(steps), left=np.nan, right=np.nan)
    phase = np.where(np.isfinite(phase), phase, 0.0)
    yaw = -0.3 * np.cos(phase) * walking
    acc = np.column_stack([a_pa, a_ml, f_up])
    gyr = np.column_stack([np.zeros(n), np.zeros(n), yaw])
    sensor = _sensor(np.hstack([acc, gyr]), rng, fs, with_gyr, None)
    step_times = np.diff(ic_arr)
    later = np.asarray(sides[1:], dtype=object)
    truth: dict[str, object] = {
        "ic_s": ic_arr.tolist(),
        "sides": sides,
        "steps": steps,
        "steps_off_line": len(set(off_line_steps)),
        "off_line_steps": sorted(set(off_line_steps)),
        "step_time_left_s": float(np.median(step_times[later == "left"])),
        "step_time_right_s": float(np.median(step_times[later == "right"])),
        "duration_s": float(ic_arr[-1] - ic_arr[0] + np.median(step_times)),
    }
    return sensor, truth
