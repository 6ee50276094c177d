"""The streaming gait engine agrees with the offline pipeline on the same recording.

Events within 5 ms and window metrics within 1 % (simulated and real recordings); the numpy window
metrics equal the offline pandas functions on any events; bad chunks are refused with a reason, gaps
are noted and the stream keeps going.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.gait import analyze_recording
from stridelab.gait.events import events_frame
from stridelab.gait.orientation import estimate_orientation
from stridelab.gait.streaming import (
    LIVE_KINEMATICS,
    LIVE_METRICS,
    StreamingEventDetection,
    StreamingGait,
    window_metrics,
)
from stridelab.gait.streaming._fast import fast_window_metrics
from stridelab.gait.streaming._kinematics import StreamingOrientation
from stridelab.io.imu import ImuRecording, ImuSensor
from stridelab.sim.imu import ImuTruth, simulate_imu


def _stream(rec: ImuRecording, chunk: int, **kw: float) -> tuple[StreamingGait, list, pd.DataFrame]:
    fs = rec.sensors[0].sampling_rate_hz
    gait = StreamingGait(tuple((s.name, s.placement, s.side) for s in rec.sensors), fs, **kw)
    arrays = {s.name: s.data.to_numpy(float) for s in rec.sensors}
    n = min(len(a) for a in arrays.values())
    updates = []
    for i in range(0, n, chunk):
        for name, a in arrays.items():
            gait.push(name, a[i : i + chunk])
            if gait.update_ is not None:
                updates.append(gait.update_)
    gait.finish()
    updates.append(gait.update_)
    events = pd.concat([u.new_events for u in updates]).sort_values(["time_s", "event"], kind="stable")
    return gait, updates, events.reset_index(drop=True)


def _assert_events_match(live: pd.DataFrame, offline: pd.DataFrame, tol_s: float = 0.005) -> None:
    for side in ("left", "right"):
        for kind in ("IC", "TO"):
            a = live[(live["side"] == side) & (live["event"] == kind)]["time_s"].to_numpy(float)
            b = offline[(offline["side"] == side) & (offline["event"] == kind)]["time_s"].to_numpy(float)
            assert len(a) == len(b), (side, kind, len(a), len(b))
            if len(a):
                assert np.max(np.abs(a - b)) <= tol_s


def _assert_metrics_match(updates: list, offline: pd.DataFrame) -> int:
    compared = 0
    for u in updates:
        ref = window_metrics(offline, u.window_start_s, u.window_end_s)
        for name in LIVE_METRICS:
            got, want = u.metrics[name], ref[name]
            if math.isnan(want):
                assert math.isnan(got), (u.time_s, name)
                continue
            # a symmetry index is a difference near 0: 1 % of its step times moves it by up to 2 points
            tol = 0.5 if name == "step_time_symmetry_index_pct" else 1e-9
            assert got == pytest.approx(want, rel=0.01, abs=tol), (u.time_s, name, got, want)
            compared += 1
    return compared


def _offline_kinematics(strides: pd.DataFrame, metric: str, start: float, end: float) -> float:
    """The window rule of the live kinematics: strides whose IC and next IC lie in the window."""
    col, _, side = metric.rpartition("_rad_")
    col, sel = (metric, strides) if not col else (col + "_rad", strides[strides["side"] == side])
    v = sel[(sel["ic_s"] >= start) & (sel["next_ic_s"] <= end)][col].dropna()
    return float(np.median(v)) if len(v) else math.nan


def _assert_kinematics_match(
    updates: list, strides: pd.DataFrame, placements: tuple[str, ...], rel: float, skip: tuple[str, ...] = ()
) -> int:
    compared = 0
    for u in updates:
        for p in placements:
            for name in LIVE_KINEMATICS[p]:
                got, want = (
                    u.metrics[name],
                    _offline_kinematics(strides, name, u.window_start_s, u.window_end_s),
                )
                if math.isnan(got) and name in skip:
                    continue
                assert math.isnan(got) == math.isnan(want), (u.time_s, name, got, want)
                if not math.isnan(want):
                    assert got == pytest.approx(want, rel=rel), (u.time_s, name, got, want)
                    compared += 1
    return compared


def test_streaming_orientation_is_one_pass_over_the_stream():
    sim = simulate_imu(ImuTruth(duration_s=6, placements=("sacrum",)), seed=5)
    data = sim.recording.sensors[0].data.to_numpy(float)
    whole = estimate_orientation(data[:, :3], data[:, 3:], 200.0).quaternions
    for chunk in (1, 37, 450):
        so = StreamingOrientation(200.0)
        got = np.concatenate(
            [so.push(data[i : i + chunk]) for i in range(0, len(data), chunk)] + [so.flush()]
        )
        np.testing.assert_allclose(got, whole, atol=1e-12)
    # a gap ends the pass: NaN there, and the filter restarts from the gravity after it
    gappy = data.copy()
    gappy[600] = np.nan
    so = StreamingOrientation(200.0)
    got = np.concatenate([so.push(gappy[i : i + 50]) for i in range(0, len(gappy), 50)] + [so.flush()])
    assert len(got) == len(data) and np.isnan(got[600]).all()
    np.testing.assert_allclose(got[:600], whole[:600], atol=1e-12)
    after = estimate_orientation(data[601:, :3], data[601:, 3:], 200.0).quaternions
    np.testing.assert_allclose(got[601:], after, atol=1e-12)


def test_live_kinematics_match_offline():
    """Feet, sacrum and chest: foot strike, pelvic drop and trunk lean live = offline per window."""
    truth = ImuTruth(
        duration_s=45, placements=("foot", "sacrum", "chest"), pelvic_drop_left_rad=math.radians(7)
    )
    sim = simulate_imu(truth, seed=3)
    offline = analyze_recording(sim.recording)
    _gait, updates, _live = _stream(sim.recording, chunk=40)
    # the trunk's forward axis needs 20 s of running after the upright stance: no lean before it
    n = _assert_kinematics_match(
        updates, offline.strides, ("foot", "sacrum", "chest"), 0.01, skip=("trunk_lean_rad",)
    )
    assert n > 150
    last = updates[-1].metrics
    assert math.isfinite(last["trunk_lean_rad"])
    assert last["pelvic_drop_rad_left"] > last["pelvic_drop_rad_right"]  # the declared 7° vs 5°
    assert any("trunk forward axis" in p for p in updates[-1].problems)


def test_simulated_run_matches_offline():
    sim = simulate_imu(ImuTruth(duration_s=20, gct_balance_left_pct=52.0, placements=("foot",)), seed=7)
    offline = analyze_recording(sim.recording).events
    _gait, updates, live = _stream(sim.recording, chunk=20)
    _assert_events_match(live, offline)
    assert _assert_metrics_match(updates, offline) > 60
    last = updates[-1].metrics
    assert last["stance_time_balance_left_pct"] == pytest.approx(52.0, abs=0.6)
    assert last["cadence_spm"] == pytest.approx(170.0, rel=0.02)
    # the window is bounded and trails the stream by the settle time only
    assert all(u.time_s - u.window_end_s <= 3.0 + 2.0 + 1e-9 for u in updates[:-1])
    assert all(u.window_end_s - u.window_start_s <= 30.0 + 1e-9 for u in updates)


def test_chunk_size_does_not_change_events():
    sim = simulate_imu(ImuTruth(duration_s=10, placements=("foot",)), seed=2)
    _, _, a = _stream(sim.recording, chunk=7)
    _, _, b = _stream(sim.recording, chunk=64)
    pd.testing.assert_frame_equal(a, b)


def test_real_gaitmap_feet_match_offline(shared_data: Path):
    base = shared_data / "imu" / "mad-lab-fau__gaitmap"
    imu = pd.read_csv(base / "imu_sample.csv", header=[0, 1], index_col=0)
    sensors = []
    for side in ("left", "right"):
        s = imu[f"{side}_sensor"]
        data = pd.DataFrame({c: s[c].to_numpy() for c in ("acc_x", "acc_y", "acc_z")})
        for c in ("gyr_x", "gyr_y", "gyr_z"):
            data[c] = np.deg2rad(s[c].to_numpy())
        sensors.append(ImuSensor(f"{side}_foot", "foot", side, data, 204.8))  # type: ignore[arg-type]
    rec = ImuRecording(tuple(sensors))
    offline = analyze_recording(rec).events
    _, updates, live = _stream(rec, chunk=41)
    assert len(offline) > 40
    _assert_events_match(live, offline)
    assert _assert_metrics_match(updates, offline) > 20
    # live foot strike on real feet: the body frame comes from the look-back, not the whole recording
    strides = analyze_recording(rec).strides
    assert _assert_kinematics_match(updates, strides, ("foot",), rel=0.01) > 10


def test_gap_is_noted_and_the_stream_keeps_going():
    sim = simulate_imu(ImuTruth(duration_s=30, placements=("foot",)), seed=4)
    s = sim.recording.sensor("left_foot")
    data = s.data.to_numpy(float).copy()
    data[4000:4100] = np.nan  # half a second lost at 20 s
    det = StreamingEventDetection("foot", "left", 200.0)
    times = []
    for i in range(0, len(data), 50):
        det.push(data[i : i + 50])
        times += det.new_events_["time_s"].tolist()
    det.finish()
    times += det.new_events_["time_s"].tolist()
    assert any(p.startswith("gap: samples missing at 20.00 s") for p in det.problems_)
    assert min(times) < 15 and max(times) > 27  # events before and after the gap


def test_bad_chunks_are_refused_with_the_reason():
    det = StreamingEventDetection("foot", "left", 200.0)
    with pytest.raises(ValueError, match=r"3 .acc. or 6"):
        det.push(np.zeros((10, 4)))
    det.push(np.zeros((10, 6)))
    with pytest.raises(ValueError, match="changed its columns"):
        det.push(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="settle_s"):
        StreamingEventDetection("foot", "left", 200.0, buffer_s=4.0, settle_s=2.0).push(np.zeros((1, 6)))
    with pytest.raises(ValueError, match="unknown sensor"):
        StreamingGait((("lf", "foot", "left"),), 200.0).push("rf", np.zeros((1, 6)))


# event times on a 5 ms grid (200 Hz), never two at the same instant (a zero step time is not gait)
_event = st.tuples(st.integers(0, 4000), st.sampled_from(["left", "right"]), st.sampled_from(["IC", "TO"]))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(_event, max_size=60, unique_by=lambda e: e[0]), st.floats(0.0, 10.0), st.floats(5.0, 25.0))
def test_numpy_window_metrics_equal_the_offline_functions(events, start, end):
    ic = [(t / 200, s) for t, s, e in events if e == "IC"]
    to = [(t / 200, s) for t, s, e in events if e == "TO"]
    ev = events_frame([t for t, _ in ic], [t for t, _ in to], [s for _, s in ic], [s for _, s in to])
    want = window_metrics(ev, start, end)
    got = fast_window_metrics(
        ev["time_s"].to_numpy(float),
        (ev["side"] == "left").to_numpy(bool),
        (ev["event"] == "IC").to_numpy(bool),
        start,
        end,
    )
    for name in LIVE_METRICS:
        if math.isnan(want[name]):
            assert math.isnan(got[name]), name
        else:
            assert got[name] == pytest.approx(want[name], rel=1e-9, abs=1e-12), name
