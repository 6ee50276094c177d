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
from stridelab.gait.streaming import LIVE_METRICS, StreamingEventDetection, StreamingGait, window_metrics
from stridelab.gait.streaming._fast import fast_window_metrics
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
