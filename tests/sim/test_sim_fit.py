"""write_fit: the written FIT decodes (official SDK and fitdecode) back to the simulated records."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from stridelab.io.fit import FitWriter, Message, MessageBlock, encode_with_sdk, mesg_num
from stridelab.sim import (
    RUN_TRUTH_SCHEMA,
    Pause,
    RunTruth,
    SimulatedRun,
    encode_run,
    read_truth,
    simulate_run,
    to_activity,
    truth_path,
    write_fit,
)


@pytest.fixture(scope="module")
def paused_run() -> SimulatedRun:
    return simulate_run(
        RunTruth(kind="tempo", duration_s=2400, pauses=(Pause(500, 35), Pause(1500, 60))), seed=11
    )


def _ols(y: np.ndarray, *cols: np.ndarray) -> np.ndarray:
    x = np.column_stack([np.ones_like(y), *cols])
    beta: np.ndarray = np.linalg.lstsq(x, y, rcond=None)[0]
    return beta


def test_round_trip_every_record_field(
    paused_run: SimulatedRun, tmp_path: Path, decode_fit: Callable[..., Any]
) -> None:
    path = write_fit(paused_run, tmp_path / "tempo.fit")
    dec = decode_fit(path)
    rec, got = paused_run.records, dec.records
    assert len(got) == len(rec)
    assert (got.index == rec.index).all()
    for col in got.columns:
        np.testing.assert_allclose(got[col].to_numpy(), rec[col].to_numpy(), rtol=0, atol=1e-9, err_msg=col)


def test_messages_laps_events_session(
    paused_run: SimulatedRun,
    tmp_path: Path,
    decode_fit: Callable[..., Any],
    fitdecode_counts: Callable[[bytes], dict[str, int]],
) -> None:
    data = write_fit(paused_run, tmp_path / "t.fit").read_bytes()
    m = decode_fit(data).messages
    fid = m["file_id_mesgs"][0]
    assert (fid["type"], fid["manufacturer"], fid.get("garmin_product")) == ("activity", "garmin", "fr965")
    devices = m["device_info_mesgs"]
    assert {d.get("garmin_product") for d in devices} == {"fr965", "hrm_pro"}
    assert any(d.get("antplus_device_type") == "heart_rate" for d in devices)
    # laps
    laps = m["lap_mesgs"]
    assert len(laps) == len(paused_run.laps)
    for got, want in zip(laps, paused_run.laps, strict=True):
        assert pd.Timestamp(got["start_time"]) == want.start_time
        assert got["total_timer_time"] == want.timer_s and got["total_elapsed_time"] == want.elapsed_s
        assert got["total_distance"] == pytest.approx(want.distance_m, abs=1e-9)
        assert got["enhanced_avg_speed"] == pytest.approx(want.avg_speed_m_s, abs=1e-9)
        assert got["lap_trigger"] == want.trigger
        assert 40 < got["avg_stance_time_balance"] < 60
    # timer events = pauses
    ev = [(pd.Timestamp(e["timestamp"]), e["event_type"]) for e in m["event_mesgs"] if e["event"] == "timer"]
    assert ev == [(e.time, e.event_type) for e in paused_run.events]
    # session and activity
    s = m["session_mesgs"][0]
    assert s["num_laps"] == len(paused_run.laps)
    assert s["total_timer_time"] == paused_run.timer_s == 2400
    assert s["total_elapsed_time"] == paused_run.elapsed_s == 2400 + 95
    assert s["total_distance"] == pytest.approx(paused_run.distance_m, abs=1e-9)
    assert s["avg_stance_time_balance"] == pytest.approx(
        paused_run.records["stance_time_balance_left_pct"].mean(), abs=0.006
    )
    assert m["activity_mesgs"][0]["num_sessions"] == 1
    # an independent decoder agrees on every message
    counts = fitdecode_counts(data)
    assert counts["record"] == len(paused_run.records) and counts["lap"] == len(paused_run.laps)
    assert counts["event"] == len(paused_run.events)


def test_fast_writer_is_byte_identical_to_the_official_encoder() -> None:
    run = simulate_run(
        RunTruth(kind="intervals", duration_s=900, warmup_s=120, pauses=(Pause(400, 20),)), seed=4
    )
    assert encode_run(run, engine="fast") == encode_run(run, engine="sdk")
    for sensor in ("rd_pod", "none"):
        r = simulate_run(RunTruth(kind="easy", duration_s=300, warmup_s=60, sensor=sensor), seed=1)
        assert encode_run(r) == encode_run(r, engine="sdk")


def test_sensor_variants_decode(tmp_path: Path, decode_fit: Callable[..., Any]) -> None:
    for sensor, products in (
        ("rd_pod", {"fr965", "running_dynamics_pod"}),
        ("none", {"fr965"}),
        ("hrm_run", {"fr965", "hrm_run"}),
    ):
        run = simulate_run(RunTruth(kind="easy", duration_s=300, warmup_s=60, sensor=sensor), seed=1)  # type: ignore[arg-type]
        m = decode_fit(encode_run(run)).messages
        assert {d.get("garmin_product") for d in m["device_info_mesgs"]} == products
        assert ("stance_time_balance" in m["record_mesgs"][0]) == (sensor != "none")


def test_sidecar_reproduces_the_run(paused_run: SimulatedRun, tmp_path: Path) -> None:
    path = write_fit(paused_run, tmp_path / "run.fit")
    side = truth_path(path)
    assert side.name == "run.truth.json"
    data = json.loads(side.read_text())
    assert data["schema"] == RUN_TRUTH_SCHEMA and data["seed"] == 11 and data["fit_file"] == "run.fit"
    assert data["truth"]["balance_left_pct_at_ref"] == 50.8
    truth, seed = read_truth(path)
    assert truth == paused_run.truth
    again = simulate_run(truth, seed=seed)
    pd.testing.assert_frame_equal(again.records, paused_run.records)
    assert encode_run(again) == path.read_bytes()
    assert data["fit_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    write_fit(paused_run, tmp_path / "bare.fit", sidecar=False)
    assert not truth_path(tmp_path / "bare.fit").exists()


def test_balance_truth_is_recovered_from_the_written_file(
    tmp_path: Path, decode_fit: Callable[..., Any]
) -> None:
    truth = RunTruth(
        kind="intervals",
        duration_s=3600,
        balance_left_pct_at_ref=50.8,
        balance_speed_slope_pp_per_m_s=0.6,
        balance_drift_pp_per_h=0.8,
    )
    path = write_fit(simulate_run(truth, seed=2026), tmp_path / "iv.fit")
    r = decode_fit(path).records
    y = r["stance_time_balance_left_pct"].to_numpy()
    b = _ols(y, r["speed_m_s"].to_numpy() - 3.0, r["elapsed_s"].to_numpy() / 3600)
    assert b == pytest.approx([50.8, 0.6, 0.8], abs=0.35)
    assert abs(b[0] - 50.8) < 0.15 and abs(b[1] - 0.6) < 0.2
    res = y - np.column_stack([np.ones_like(y), r["speed_m_s"] - 3.0, r["elapsed_s"] / 3600]) @ b
    res -= res.mean()
    assert float(np.dot(res[1:], res[:-1]) / np.dot(res, res)) == pytest.approx(0.8, abs=0.04)
    assert res.std() == pytest.approx(0.6, abs=0.06)


def test_writer_refuses_what_the_sdk_would_wrap_or_drop() -> None:
    rec = mesg_num("record")
    cases: list[tuple[dict[str, list[float]], str]] = [
        ({"timestamp": [1, 2], "stance_time_balance": [50.0, np.nan]}, "NaN"),
        ({"timestamp": [1, 2], "enhanced_altitude": [-600.0, 0.0]}, "outside the field range"),
        ({"timestamp": [1, 2], "heart_rate": [150.5, 151.0]}, "integer"),
        ({"timestamp": [1, 2], "heart_rate": [255, 151]}, "outside the field range"),
    ]
    for cols, match in cases:
        with pytest.raises(ValueError, match=match):
            FitWriter().write(MessageBlock(rec, cols))
    with pytest.raises(KeyError, match="no field 'stance_balance'"):
        FitWriter().write(Message(rec, {"stance_balance": 50.0}))
    with pytest.raises(ValueError, match="profile type"):
        FitWriter().write(Message(mesg_num("event"), {"event": "teleport"}))


def test_generic_messages_match_the_sdk_encoder() -> None:
    """Definition reuse, field order, strings, datetimes and > 16 definitions, byte for byte."""
    t = datetime(2026, 1, 1, 12, tzinfo=UTC)
    items: list[Message | MessageBlock] = [
        Message(0, {"type": "activity", "manufacturer": "garmin", "product": 4315, "time_created": t})
    ]
    for i in range(20):  # more distinct definitions than local message numbers
        fields = {"timestamp": 1_000 + i, "event": "timer", "event_type": "marker"}
        if i % 3:
            fields["data"] = i
        if i % 4 == 0:
            fields = dict(reversed(list(fields.items())))
        items.append(Message(mesg_num("event"), fields))
        items.append(Message(mesg_num("sport"), {"sport": "running", "name": "Run" + "x" * (i % 5)}))
        items.append(MessageBlock(mesg_num("record"), {"timestamp": [2_000 + i], "heart_rate": [100 + i]}))
    w = FitWriter()
    for it in items:
        w.write(it)
    assert w.close() == encode_with_sdk(items)


def test_to_activity_matches_the_file(paused_run: SimulatedRun, tmp_path: Path) -> None:
    act = to_activity(paused_run)
    path = write_fit(paused_run, tmp_path / "a.fit")
    assert act.id == hashlib.sha256(path.read_bytes()).hexdigest()
    assert act.has_running_dynamics and act.sport == "running" and act.product == "fr965"
    assert act.duration_s == 2400 and act.elapsed_s == 2495 and act.laps == paused_run.laps
    assert act.sessions[0].distance_m == paused_run.distance_m
    assert any(d.get("device_type") == 120 for d in act.devices)
