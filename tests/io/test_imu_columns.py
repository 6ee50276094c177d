"""``read_imu`` without a sidecar: gaitmap's two-header CSV, unit-suffixed column names, and the
sidecar hint for a table it cannot read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.frames import SENSOR_FRAME_ACC, SENSOR_FRAME_GYR
from stridelab.io.imu import read_imu
from stridelab.io.imu._columns import recognise_columns
from stridelab.units import G


def test_gaitmap_two_header_csv(shared_data):
    path = shared_data / "imu" / "mad-lab-fau__gaitmap" / "imu_sample.csv"
    rec = read_imu(path, placement="foot", sampling_rate_hz=204.8, gyr_unit="deg/s")
    ref = pd.read_csv(path, header=[0, 1], index_col=0)
    assert [(s.name, s.side) for s in rec.sensors] == [("left_foot", "left"), ("right_foot", "right")]
    for s, group in zip(rec.sensors, ("left_sensor", "right_sensor"), strict=True):
        assert s.sampling_rate_hz == 204.8 and len(s.data) == len(ref) == 7928
        np.testing.assert_allclose(s.data["acc_z"], ref[group]["acc_z"])
        np.testing.assert_allclose(s.data["gyr_y"], np.deg2rad(ref[group]["gyr_y"]))
    with pytest.raises(ValueError, match=r"two-header.*--rate-hz"):
        read_imu(path, placement="foot")


def _table(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    acc = rng.normal([0, 0, G], 1.0, (n, 3))
    gyr = rng.normal(0, 0.5, (n, 3))
    return pd.DataFrame(np.column_stack([acc, gyr]), columns=[*SENSOR_FRAME_ACC, *SENSOR_FRAME_GYR])


def test_unit_suffixed_columns(tmp_path):
    t = _table()
    t.to_csv(tmp_path / "si.csv", index=False)
    suffixed = pd.DataFrame(
        {
            **{f"acc_{a}_g": t[f"acc_{a}"] / G for a in "xyz"},
            **{f"gyr_{a}_dps": np.rad2deg(t[f"gyr_{a}"]) for a in "xyz"},
        }
    )
    suffixed.to_csv(tmp_path / "units.csv", index=False)
    a = read_imu(tmp_path / "si.csv", placement="sacrum", sampling_rate_hz=100.0).sensors[0].data
    b = read_imu(tmp_path / "units.csv", placement="sacrum", sampling_rate_hz=100.0).sensors[0].data
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"named in g but .* given as mg"):
        read_imu(tmp_path / "units.csv", placement="sacrum", sampling_rate_hz=100.0, acc_unit="mg")


def test_unreadable_table_names_the_sidecar(tmp_path):
    t = _table()
    t.columns = ["ax", "ay", "az", "gx", "gy", "gz"]
    t.to_csv(tmp_path / "odd.csv", index=False)
    with pytest.raises(ValueError, match=r"odd\.imu\.json") as info:
        read_imu(tmp_path / "odd.csv", placement="sacrum", sampling_rate_hz=100.0)
    assert '"acc_x": "ax"' in str(info.value) and '"gyr_z": "gz"' in str(info.value)
    t.columns = ["acc_x_furlong", "acc_y_furlong", "acc_z_furlong", "gx", "gy", "gz"]
    t.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="unknown unit suffix 'furlong'"):
        read_imu(tmp_path / "bad.csv", placement="sacrum", sampling_rate_hz=100.0)


def test_cli_reads_gaitmap_csv(shared_data):
    path = shared_data / "imu" / "mad-lab-fau__gaitmap" / "imu_sample.csv"
    args = ["imu", str(path), "--placement", "foot", "--rate-hz", "204.8", "--gyr-unit", "deg/s"]
    res = CliRunner().invoke(app, [*args, "--no-store", "--json"])
    assert res.exit_code == 0, res.output
    assert '"gait_mode": "walking"' in res.output


@given(
    kind=st.sampled_from(["acc", "gyr"]),
    sep=st.sampled_from(["_", " (", "["]),
    unit=st.sampled_from(["g", "mg", "m/s^2", "ms2", "dps", "deg/s", "rad/s", "rads"]),
)
def test_recognise_suffix(kind, sep, unit):
    close = {" (": ")", "[": "]", "_": ""}[sep]
    cols = [f"acc_{a}{sep}{unit}{close}" if kind == "acc" else f"acc_{a}" for a in "xyz"]
    cols += [f"gyr_{a}{sep}{unit}{close}" if kind == "gyr" else f"gyr_{a}" for a in "xyz"]
    acc_ok = unit in ("g", "mg", "m/s^2", "ms2")
    if (kind == "acc") != acc_ok:
        with pytest.raises(ValueError, match="unknown unit suffix"):
            recognise_columns(cols)
        return
    spec = recognise_columns(cols)
    assert spec is not None
    assert spec.columns == dict(zip([*SENSOR_FRAME_ACC, *SENSOR_FRAME_GYR], cols, strict=True))
    assert (spec.acc_unit if kind == "acc" else spec.gyr_unit) is not None
