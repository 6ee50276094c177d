"""Cases and results for the IMU speed-up equivalence test (issue 15): real shared recordings and small
simulated ones, run through the public gait API.

``python tests/gait/_imu_equivalence.py OUT.json`` writes the results of whichever ``stridelab`` is on the
path. ``tests/data/imu_results_d8e814a.json`` was written this way by the code before the speed-up
(main at d8e814a: the ``ahrs`` Madgwick filter run per stage, the unwindowed simulator), and
``test_gait_imu_equivalence.py`` checks that today's code gives the same events (within 1 ms) and metrics
(within 0.1 %). Only names that exist in both versions are used here.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.io as sio

from stridelab.gait import analyze_recording
from stridelab.gait.events import FootEventDetection, SacrumEventDetection
from stridelab.gait.metrics import foot_strike, pelvic_obliquity, stride_table, vertical_oscillation
from stridelab.gait.trajectory import SPATIAL_STRIDE_COLUMNS
from stridelab.sim.imu import ImuTruth, simulate_imu
from stridelab.units import G

ACC = ["acc_x", "acc_y", "acc_z"]
GYR = ["gyr_x", "gyr_y", "gyr_z"]


def _events(ev: pd.DataFrame) -> list[list[Any]]:
    return [[float(t), str(s), str(e)] for t, s, e in zip(ev["time_s"], ev["side"], ev["event"], strict=True)]


def _numeric(df: pd.DataFrame) -> dict[str, list[float]]:
    return {c: [float(x) for x in df[c]] for c in df.columns if pd.api.types.is_numeric_dtype(df[c])}


def _summary(d: dict[str, object]) -> dict[str, Any]:
    return {
        k: (float(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v))
        for k, v in d.items()
    }


def gaitmap_feet(imu_root: Path) -> dict[str, Any]:
    """Both feet of the gaitmap sample: events, body frame and foot strike angles."""
    imu = pd.read_csv(imu_root / "mad-lab-fau__gaitmap" / "imu_sample.csv", header=[0, 1], index_col=0)
    fs = 204.8
    out: dict[str, Any] = {}
    for side in ("left", "right"):
        s = imu[f"{side}_sensor"]
        data = pd.DataFrame({c: s[c].to_numpy() for c in ACC})
        for c in GYR:
            data[c] = np.deg2rad(s[c].to_numpy())
        det = FootEventDetection().detect(data, sampling_rate_hz=fs, side=side)  # type: ignore[arg-type]
        strides = stride_table(det.events_)
        fsa = foot_strike(data[ACC].to_numpy(), data[GYR].to_numpy(), fs, det.body_frame_, strides)
        out[side] = {
            "events": _events(det.events_),
            "frame": det.body_frame_.rotation.tolist(),
            "foot_strike_angle_rad": [float(x) for x in fsa["foot_strike_angle_rad"]],
        }
    return out


def mobgap_lower_back(imu_root: Path) -> dict[str, Any]:
    """HA/001 Test5 Trial1 lower back: sacrum events, body frame, vertical oscillation, pelvic obliquity."""
    path = imu_root / "mobilise-d__mobgap" / "lab" / "HA" / "001" / "data.mat"
    t = sio.loadmat(path, squeeze_me=True, struct_as_record=False)["data"].TimeMeasure1.Test5.Trial1
    acc = np.asarray(t.SU.LowerBack.Acc, dtype=float) * G
    gyr = np.deg2rad(np.asarray(t.SU.LowerBack.Gyr, dtype=float))
    data = pd.DataFrame(np.c_[acc, gyr], columns=ACC + GYR)
    fs = 100.0
    # the d8e814a snapshot predates walking-bout detection (issue 20): compare the global-period path
    det = SacrumEventDetection(walking_bouts=False).detect(data, sampling_rate_hz=fs)
    strides = stride_table(det.events_)
    ic = np.sort(det.ic_s_)
    vo = vertical_oscillation(acc, gyr, fs, ic)
    po = pelvic_obliquity(acc, gyr, fs, det.body_frame_, strides)
    return {
        "events": _events(det.events_),
        "frame": det.body_frame_.rotation.tolist(),
        "vertical_oscillation_m": [float(x) for x in vo],
        "pelvic": _numeric(po),
    }


SIMULATED: dict[str, tuple[dict[str, Any], int]] = {
    "running_feet_sacrum_chest": (
        {"activity": "running", "duration_s": 30.0, "placements": ("foot", "sacrum", "chest")},
        3,
    ),
    "walking_sacrum_chest": (
        {
            "activity": "walking",
            "cadence_spm": 110.0,
            "contact_time_s": 0.7,
            "duration_s": 30.0,
            "placements": ("sacrum", "chest"),
        },
        4,
    ),
    "running_sacrum": ({"activity": "running", "duration_s": 30.0, "placements": ("sacrum",)}, 5),
    # long enough (72,000 samples a sensor) for the compiled paths of wave 3 (filters, norms, covariance,
    # blocked autocorrelation), which signals shorter than 50,000 values do not take
    "running_feet_sacrum_6min": (
        {"activity": "running", "duration_s": 360.0, "placements": ("foot", "sacrum")},
        6,
    ),
}


def simulated(name: str) -> dict[str, Any]:
    """Full :func:`analyze_recording` of one simulated recording."""
    kwargs, seed = SIMULATED[name]
    sim = simulate_imu(ImuTruth(**kwargs), seed=seed)
    res = analyze_recording(sim.recording)
    # the foot-trajectory values added by issue 20 after d8e814a are not in the snapshot (they are
    # checked in test_gait_trajectory.py); everything that existed then is compared
    new_cols = {*SPATIAL_STRIDE_COLUMNS, "step_width_m", "crossover", "step_width_dev_m"}
    new_keys = ("stride_length_m", "foot_clearance_m", "eversion_", "step_width_", "crossover_index_pct")
    summary = {k: v for k, v in res.summary.items() if not k.startswith(new_keys)}
    return {
        "events": _events(res.events),
        "strides": _numeric(res.strides.drop(columns=[c for c in res.strides if c in new_cols])),
        "steps": _numeric(res.steps.drop(columns=[c for c in res.steps if c in new_cols])),
        "summary": _summary(summary),
        "problems": list(res.problems),
    }


def all_results(imu_root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"gaitmap": gaitmap_feet(imu_root), "mobgap": mobgap_lower_back(imu_root)}
    for name in SIMULATED:
        out[name] = simulated(name)
    return out


def close(a: float, b: float, rel: float = 1e-3, abs_: float = 1e-9) -> bool:
    """Within ``rel`` (0.1 %) of the reference, NaN equal to NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= rel * abs(b) + abs_


if __name__ == "__main__":
    root = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[3] / "shared/data/imu"
    Path(sys.argv[1]).write_text(json.dumps(all_results(root), indent=0) + "\n", encoding="utf-8")
