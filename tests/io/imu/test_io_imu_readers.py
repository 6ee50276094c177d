"""IMU readers: declared columns/units/time, phone-app exports, sidecars, resampling."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.io.imu import (
    ImuRecording,
    ImuSensor,
    find_sidecar,
    read_imu,
    read_imu_table,
    read_phyphox,
    read_recording_with_sidecar,
    read_sensor_logger,
    resample_uniform,
)
from stridelab.sim.imu import ImuTruth, simulate_imu, write_phyphox, write_sensor_logger
from stridelab.units import G


@pytest.fixture(scope="module")
def sim():
    return simulate_imu(ImuTruth(duration_s=6.0, standing_s=1.0, placements=("shank", "sacrum")), seed=2)


def _export_g_degs(sensor: ImuSensor, path: Path, *, jitter_s: float = 0.0, names: str = "") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = len(sensor.data)
    t_ms = (np.arange(n) / sensor.sampling_rate_hz + rng.uniform(-jitter_s, jitter_s, n)) * 1000
    df = pd.DataFrame({"t_ms": np.sort(t_ms)})
    for c in ("x", "y", "z"):
        df[f"a{c}{names}"] = sensor.data[f"acc_{c}"].to_numpy() / G
        df[f"g{c}{names}"] = np.rad2deg(sensor.data[f"gyr_{c}"].to_numpy())
    if path.suffix == ".parquet":
        df.to_parquet(path)
    else:
        df.to_csv(path, index=False)
    return df


COLS = {"acc_x": "ax", "acc_y": "ay", "acc_z": "az", "gyr_x": "gx", "gyr_y": "gy", "gyr_z": "gz"}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_generic_table_units_to_si(tmp_path, sim, suffix):
    s = sim.recording.sensor("left_shank")
    path = tmp_path / f"run{suffix}"
    _export_g_degs(s, path)
    out = read_imu_table(
        path,
        placement="shank",
        side="left",
        columns=COLS,
        acc_unit="g",
        gyr_unit="deg/s",
        time_column="t_ms",
        time_unit="ms",
    )
    assert out.sampling_rate_hz == pytest.approx(200.0)
    assert np.allclose(out.data.to_numpy(), s.data[list(COLS)].to_numpy(), atol=1e-9)
    assert out.problems == ()


def test_jittery_timestamps_are_resampled(tmp_path, sim):
    s = sim.recording.sensor("left_shank")
    path = tmp_path / "jitter.csv"
    _export_g_degs(s, path, jitter_s=0.0015)
    out = read_imu_table(
        path,
        placement="shank",
        side="left",
        columns=COLS,
        acc_unit="g",
        gyr_unit="deg/s",
        time_column="t_ms",
        time_unit="ms",
        target_rate_hz=200.0,
    )
    assert out.sampling_rate_hz == 200.0
    assert any("jitter" in p for p in out.problems)
    # the resampled signal stays close to the truth (jitter ≤ 1.5 ms, smooth parts of the signal)
    n = min(len(out.data), len(s.data)) - 5
    err = np.abs(out.data["acc_x"].to_numpy()[:n] - s.data["acc_x"].to_numpy()[:n])
    assert np.median(err) < 0.3


def test_sampling_rate_instead_of_time(tmp_path, sim):
    s = sim.recording.sensor("sacrum")
    path = tmp_path / "sacrum.csv"
    s.data.to_csv(path, index=False)
    out = read_imu_table(path, placement="sacrum", sampling_rate_hz=200.0)
    assert out.sampling_rate_hz == 200.0 and len(out.data) == len(s.data)
    with pytest.raises(ValueError, match="Declare the time base"):
        read_imu_table(path, placement="sacrum")
    with pytest.raises(ValueError, match="'placement' parameter"):
        read_imu_table(path, placement="hip", sampling_rate_hz=200.0)


@settings(max_examples=30, deadline=None)
@given(
    slope=st.floats(min_value=-5, max_value=5),
    rate=st.floats(min_value=50, max_value=400),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_resample_linear_signals_exactly(slope, rate, seed):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.5, 1.5, 300)) / rate
    v = slope * t + 1.0
    out, r, problems = resample_uniform(t, v, rate_hz=rate, max_gap_s=1.0)
    grid = t[0] + np.arange(len(out)) / r
    assert np.allclose(out[:, 0], slope * grid + 1.0, atol=1e-9)
    assert problems == []


def test_resample_gaps_are_nan_and_reported():
    t = np.r_[np.arange(0, 1, 0.01), np.arange(1.5, 2.5, 0.01)]
    out, _r, problems = resample_uniform(t, np.ones_like(t), rate_hz=100.0)
    assert np.isnan(out[:, 0]).sum() > 40
    assert problems and "gap of 0.51" in problems[0]
    with pytest.raises(ValueError, match="not in time order"):
        resample_uniform(t[::-1], np.ones_like(t))


@pytest.mark.parametrize("as_zip", [False, True])
def test_sensor_logger_export(tmp_path, sim, as_zip):
    s = sim.recording.sensor("sacrum")
    folder = write_sensor_logger(s, tmp_path / "logger")
    path: Path = folder
    if as_zip:
        path = tmp_path / "logger.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for f in folder.iterdir():
                zf.write(f, f"export/{f.name}")
    rec = read_sensor_logger(path, placement="sacrum")
    out = rec.sensors[0]
    assert out.has_gyr and out.sampling_rate_hz == pytest.approx(200.0, rel=0.01)
    assert rec.start_time is not None and rec.start_time.tzinfo is not None
    assert abs(len(out.data) - len(s.data)) < 5
    assert np.median(
        np.linalg.norm(out.data[["acc_x", "acc_y", "acc_z"]].to_numpy(), axis=1)
    ) == pytest.approx(G, rel=0.05)
    assert any("resampled" in p for p in out.problems)


def test_sensor_logger_needs_total_acceleration(tmp_path, sim):
    s = sim.recording.sensor("sacrum")
    folder = write_sensor_logger(s, tmp_path / "logger")
    (folder / "TotalAcceleration.csv").rename(folder / "Accelerometer.csv")
    with pytest.raises(ValueError, match="gravity-free"):
        read_sensor_logger(folder)


def test_phyphox_export(tmp_path, sim):
    s = sim.recording.sensor("sacrum")
    folder = write_phyphox(s, tmp_path / "phyphox")
    rec = read_phyphox(folder, placement="sacrum")
    assert rec.sensors[0].has_gyr
    assert len(rec.sensors[0].data) == pytest.approx(len(s.data), abs=5)
    lin = pd.read_csv(folder / "Accelerometer.csv")
    lin.columns = [
        c.replace("Acceleration", "Linear Acceleration") if c != "Time (s)" else c for c in lin.columns
    ]
    lin.to_csv(folder / "Accelerometer.csv", index=False)
    (folder / "Gyroscope.csv").unlink()
    with pytest.raises(ValueError, match="Linear Acceleration"):
        read_phyphox(folder)


def test_sidecar_with_several_sensors(tmp_path, sim):
    left = sim.recording.sensor("left_shank")
    right = sim.recording.sensor("right_shank")
    table = pd.DataFrame({"t": np.arange(len(left.data)) / 200.0})
    for s, tag in ((left, "l"), (right, "r")):
        for c in ("x", "y", "z"):
            table[f"a{c}_{tag}"] = s.data[f"acc_{c}"].to_numpy() / G
            table[f"g{c}_{tag}"] = np.rad2deg(s.data[f"gyr_{c}"].to_numpy())
    data_path = tmp_path / "run.csv"
    table.to_csv(data_path, index=False)
    sidecar = {
        "activity": "running",
        "start_time": "2026-11-20T07:00:00",
        "time": {"column": "t", "unit": "s"},
        "sensors": [
            {
                "name": f"{side}_shank",
                "placement": "shank",
                "side": side,
                "acc_unit": "g",
                "gyr_unit": "deg/s",
                "columns": {f"acc_{c}": f"a{c}_{side[0]}" for c in "xyz"}
                | {f"gyr_{c}": f"g{c}_{side[0]}" for c in "xyz"},
            }
            for side in ("left", "right")
        ],
    }
    (tmp_path / "run.imu.json").write_text(json.dumps(sidecar))
    assert find_sidecar(data_path) == tmp_path / "run.imu.json"
    rec = read_recording_with_sidecar(data_path)
    assert isinstance(rec, ImuRecording) and rec.activity == "running"
    assert [s.name for s in rec.sensors] == ["left_shank", "right_shank"]
    assert str(rec.start_time) == "2026-11-20 07:00:00+00:00"
    assert np.allclose(rec.sensors[1].data.to_numpy(), right.data.to_numpy(), atol=1e-9)
    assert read_imu(data_path).sensors[0].name == "left_shank"  # the dispatcher prefers the sidecar


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"sensors": []}, "non-empty list"),
        ({"bogus": 1}, "unknown keys"),
        ({"sensors": [{"placement": "hip"}]}, "'placement' parameter"),
        ({"sensors": [{"placement": "shank", "side": "middle"}]}, "'side' parameter"),
        ({"time": {}}, "'time' must give"),
        ({"format": "garmin"}, "'format' parameter"),
    ],
)
def test_bad_sidecars(tmp_path, patch, message):
    data_path = tmp_path / "x.csv"
    pd.DataFrame({"t": [0, 1], "acc_x": [0, 0], "acc_y": [0, 0], "acc_z": [9.8, 9.8]}).to_csv(
        data_path, index=False
    )
    spec = {"time": {"column": "t"}, "sensors": [{"placement": "sacrum"}]} | patch
    (tmp_path / "x.imu.json").write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=message):
        read_recording_with_sidecar(data_path)


def test_missing_sidecar_and_files(tmp_path):
    p = tmp_path / "none.csv"
    p.write_text("acc_x,acc_y,acc_z\n0,0,9.8\n")
    with pytest.raises(FileNotFoundError, match=r"none\.imu\.json"):
        read_recording_with_sidecar(p)
    with pytest.raises(FileNotFoundError):
        read_imu(tmp_path / "nope.csv", placement="foot")
    with pytest.raises(ValueError, match="no time base"):
        read_imu(p, placement="sacrum")


def test_recording_validation(sim):
    s = sim.recording.sensor("sacrum")
    with pytest.raises(ValueError, match="unique"):
        ImuRecording((s, s))
    with pytest.raises(ValueError, match="missing accelerometer"):
        ImuSensor("a", "sacrum", None, s.data[["acc_x"]], 100.0)
    with pytest.raises(ValueError, match="positive"):
        ImuSensor("a", "sacrum", None, s.data, 0.0)


def test_datetime_timestamps_keep_seconds(tmp_path, sim):
    """pandas ≥ 3 parses ISO strings at µs resolution; the reader used to assume ns (times 1000× short)."""
    s = sim.recording.sensor("left_shank")
    t = pd.Timestamp("2026-11-20T07:00:00Z") + pd.to_timedelta(np.arange(len(s.data)) / 200.0, unit="s")
    df = s.data.copy()
    df.insert(0, "when", [x.isoformat() for x in t])
    df.to_csv(tmp_path / "dt.csv", index=False)
    out = read_imu_table(
        tmp_path / "dt.csv", placement="shank", side="left", time_column="when", time_unit="datetime"
    )
    assert out.sampling_rate_hz == pytest.approx(200.0, rel=1e-6)
    assert out.duration_s == pytest.approx(s.duration_s, abs=0.01)


def test_one_dropped_sample_is_not_a_silent_time_shift(tmp_path):
    """A single missing row in a long, otherwise regular file barely moves std(dt) (here 0.7 % < the
    1 % jitter tolerance); without resampling every later sample sat one interval early."""
    n, fs = 20_000, 200.0
    t = np.arange(n) / fs
    rows = np.r_[0 : n // 2, n // 2 + 1 : n]
    signal = np.sin(2 * np.pi * 1.3 * t)
    df = pd.DataFrame(
        {"t_ms": t[rows] * 1000, "acc_x": signal[rows], "acc_y": 0.0 * t[rows], "acc_z": G + 0.0 * t[rows]}
    )
    df.to_csv(tmp_path / "drop.csv", index=False)
    out = read_imu_table(
        tmp_path / "drop.csv", placement="shank", side="left", time_column="t_ms", time_unit="ms"
    )
    assert len(out.data) == pytest.approx(n, abs=1)
    late = np.arange(n // 2 + 10, n - 10)
    truth = np.sin(2 * np.pi * 1.3 * late / out.sampling_rate_hz)
    # one sample early = an error up to 2π·1.3/200 ≈ 0.04; interpolation error is < 0.001
    assert np.max(np.abs(out.data["acc_x"].to_numpy()[late] - truth)) < 0.005
    assert any("irregular" in p for p in out.problems)


def test_sidecar_files_keep_their_common_clock(tmp_path):
    """Two loggers on one clock, the right one started 150 ms later: the sensors must stay aligned on
    their timestamps. Subtracting each file's own first timestamp gave 286 steps/min and a step-time
    symmetry index of 85 % for a symmetric runner."""
    from stridelab.gait import analyze_recording

    run = simulate_imu(ImuTruth(activity="running", placements=("shank",)), seed=1)
    t_ms = 1_700_000_000_000 + np.arange(len(run.recording.sensors[0].data)) * 5.0
    for sensor, skip in ((run.recording.sensor("left_shank"), 0), (run.recording.sensor("right_shank"), 30)):
        df = sensor.data.copy()
        df.insert(0, "t_ms", t_ms)
        df.iloc[skip:].to_csv(tmp_path / f"{sensor.side}.csv", index=False)
    spec = {
        "time": {"column": "t_ms", "unit": "ms"},
        "sensors": [
            {"name": "L", "placement": "shank", "side": "left", "file": "left.csv"},
            {"name": "R", "placement": "shank", "side": "right", "file": "right.csv"},
        ],
    }
    (tmp_path / "left.imu.json").write_text(json.dumps(spec))
    rec = read_imu(tmp_path / "left.csv")
    assert any("start up to 0.150 s apart" in p for p in rec.problems)
    summary = analyze_recording(rec).summary
    assert summary["cadence_spm"] == pytest.approx(170.0, abs=3.0)
    assert abs(summary["step_time_symmetry_index_pct"]) < 3.0
    truth_ic = run.events[(run.events["event"] == "IC") & (run.events["side"] == "right")]["time_s"]
    det = analyze_recording(rec).events
    det_ic = det[(det["event"] == "IC") & (det["side"] == "right")]["time_s"].to_numpy()
    # row 0 is the right logger's first sample (0.150 s after the left one's)
    errs = [np.min(np.abs(det_ic - (t - 0.150))) for t in truth_ic if t > 1.0]
    assert np.median(errs) < 0.01


def test_app_exports_in_g_are_converted_and_reported(tmp_path, sim):
    s = sim.recording.sensor("sacrum")
    in_g = ImuSensor(
        s.name,
        s.placement,
        s.side,
        s.data.assign(**{c: s.data[c] / G for c in ("acc_x", "acc_y", "acc_z")}),
        s.sampling_rate_hz,
    )
    for rec in (
        read_sensor_logger(write_sensor_logger(in_g, tmp_path / "sl"), placement="sacrum"),
        read_phyphox(write_phyphox(in_g, tmp_path / "ph"), placement="sacrum"),
    ):
        out = rec.sensors[0]
        gravity = np.median(np.linalg.norm(out.data[["acc_x", "acc_y", "acc_z"]], axis=1))
        assert gravity == pytest.approx(G, rel=0.05)
        assert any("in g" in p for p in out.problems)


def test_declared_rate_must_not_contradict_the_time_column(tmp_path, sim):
    s = sim.recording.sensor("left_shank")
    df = s.data.copy()
    df.insert(0, "time_s", np.arange(len(df)) / 200.0)
    df.to_csv(tmp_path / "t.csv", index=False)
    ok = read_imu(tmp_path / "t.csv", placement="shank", side="left", sampling_rate_hz=200.0)
    assert ok.sensors[0].sampling_rate_hz == 200.0
    with pytest.raises(ValueError, match="contradicts the 'time_s' column"):
        read_imu(tmp_path / "t.csv", placement="shank", side="left", sampling_rate_hz=100.0)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_phyphox_decimal_comma_export(tmp_path, sim, sep):
    """phyphox offers semicolon/tab CSV with a decimal comma ("0,0025"); it used to fail on float()."""
    s = sim.recording.sensor("sacrum")
    folder = write_phyphox(s, tmp_path / "ph")
    for f in folder.glob("*.csv"):
        pd.read_csv(f).to_csv(f, index=False, sep=sep, decimal=",")
    rec = read_phyphox(folder, placement="sacrum")
    assert rec.sensors[0].has_gyr
    assert rec.sensors[0].sampling_rate_hz == pytest.approx(200.0, rel=0.01)
    gravity = np.median(np.linalg.norm(rec.sensors[0].data[["acc_x", "acc_y", "acc_z"]], axis=1))
    assert gravity == pytest.approx(G, rel=0.05)


def test_resample_before_the_first_sample_is_nan_and_reported():
    t = np.arange(1.0, 3.0, 0.01)
    out, rate, problems = resample_uniform(t, t, rate_hz=100.0, start_s=0.5)
    assert rate == 100.0
    assert np.isnan(out[:50, 0]).all() and np.allclose(out[50:, 0], 1.0 + np.arange(len(out) - 50) / 100.0)
    assert any("no samples before t=0.500 s" in p for p in problems)
    with pytest.raises(ValueError, match="after the last sample"):
        resample_uniform(t, t, start_s=5.0)
