"""Write gaitmap's RtsKalman result on the shared gaitmap sample: the reference our own ZUPT + RTS
Kalman (``stridelab.gait.trajectory.ZuptRtsKalman``) is compared against (issue 20, point 2).

gaitmap 2.6 does not install next to our numpy/pandas (it downgrades them), so this script runs in its
own environment and only its small output is committed::

    python3 -m venv /tmp/gmvenv && /tmp/gmvenv/bin/pip install gaitmap==2.6.0
    /tmp/gmvenv/bin/python bench/gaitmap_rts_reference.py [--data DIR] [--out tests/data]

Outputs (gzip CSV, positions in m in gaitmap's world frame, which starts at the origin with the sensor's
gravity-aligned initial orientation):

* ``gaitmap_rts_positions.csv.gz`` -- ``side, sample, pos_x, pos_y, pos_z`` every 4th sample; ``sample``
  k is the position after integrating IMU sample k (gaitmap's row k + 1; its row 0 is the start);
* ``gaitmap_rts_zupts.csv.gz`` -- ``side, start, end`` zero-velocity regions (samples, end exclusive).

Parameters: ``RtsKalman()`` defaults (NormZuptDetector on the gyroscope, 0.05 s windows, 50 % overlap,
maximum < 34 deg/s; level walking on), initial orientation from gravity (mean of the first 10 samples)
with ``gaitmap.utils.rotations.get_gravity_rotation`` -- the set-up of gaitmap's own trajectory example.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DECIMATE = 4


def main() -> None:
    from gaitmap.trajectory_reconstruction import RtsKalman
    from gaitmap.utils.rotations import get_gravity_rotation

    default = Path(os.environ.get("STRIDELAB_SHARED_DATA", REPO.parent / "shared" / "data")) / "imu"
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=default)
    ap.add_argument("--out", type=Path, default=REPO / "tests" / "data")
    args = ap.parse_args()
    imu = pd.read_csv(args.data / "mad-lab-fau__gaitmap" / "imu_sample.csv", header=[0, 1], index_col=0)
    fs = 204.8
    pos_parts, zupt_parts = [], []
    for side in ("left", "right"):
        data = imu[f"{side}_sensor"].reset_index(drop=True)
        q0 = get_gravity_rotation(data[["acc_x", "acc_y", "acc_z"]].iloc[:10].mean().to_numpy()).as_quat()
        kf = RtsKalman(initial_orientation=q0).estimate(data, sampling_rate_hz=fs)
        pos = kf.position_.to_numpy()[1:]
        k = np.arange(0, len(pos), DECIMATE)
        pos_parts.append(
            pd.DataFrame(
                {"side": side, "sample": k, "pos_x": pos[k, 0], "pos_y": pos[k, 1], "pos_z": pos[k, 2]}
            )
        )
        z = kf.zupts_
        zupt_parts.append(pd.DataFrame({"side": side, "start": z["start"], "end": z["end"]}))
    args.out.mkdir(parents=True, exist_ok=True)
    pd.concat(pos_parts).to_csv(args.out / "gaitmap_rts_positions.csv.gz", index=False, float_format="%.6g")
    pd.concat(zupt_parts).to_csv(args.out / "gaitmap_rts_zupts.csv.gz", index=False)
    print("wrote", args.out / "gaitmap_rts_positions.csv.gz", args.out / "gaitmap_rts_zupts.csv.gz")


if __name__ == "__main__":
    main()
