"""Property: any valid truth gives a decodable FIT with every record field valid and in range."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stridelab.sim import Pause, RunTruth, encode_run, simulate_run

_DYNAMICS = (
    "stance_time",
    "stance_time_balance",
    "stance_time_percent",
    "vertical_oscillation",
    "vertical_ratio",
    "step_length",
)


@st.composite
def truths(draw: st.DrawFn) -> RunTruth:
    kind = draw(st.sampled_from(["easy", "tempo", "intervals", "long", "hills"]))
    duration = draw(st.floats(120.0, 900.0))
    n_pauses = draw(st.integers(0, 3))
    pauses = tuple(
        Pause(draw(st.floats(10.0, duration * 0.6)), draw(st.floats(1.0, 600.0))) for _ in range(n_pauses)
    )
    return RunTruth(
        start_time=datetime(2020, 1, 1, tzinfo=UTC)
        + timedelta(seconds=draw(st.integers(0, 10 * 365 * 86400))),
        kind=kind,  # type: ignore[arg-type]
        duration_s=duration,
        warmup_s=draw(st.sampled_from([0.0, 60.0, 600.0])),
        easy_speed_m_s=draw(st.floats(1.8, 5.5)),
        balance_left_pct_at_ref=draw(st.floats(40.0, 60.0)),
        balance_speed_slope_pp_per_m_s=draw(st.floats(-3.0, 3.0)),
        balance_drift_pp_per_h=draw(st.floats(-5.0, 5.0)),
        balance_noise_sd_pp=draw(st.floats(0.0, 3.0)),
        balance_noise_phi=draw(st.floats(0.0, 0.99)),
        dynamics_noise_phi=draw(st.floats(0.0, 0.99)),
        lap_balance_offsets_pp=draw(st.dictionaries(st.integers(0, 20), st.floats(-3.0, 3.0), max_size=4)),
        walk_break_every_s=draw(st.sampled_from([None, 120.0, 300.0])),
        hill_grade_pct=draw(st.floats(-15.0, 15.0)),
        pauses=pauses,
        laps=draw(st.sampled_from(["auto", "distance", "segments"])),
        auto_lap_m=draw(st.floats(200.0, 5000.0)),
        sensor=draw(st.sampled_from(["hrm_pro", "hrm_run", "rd_pod", "none"])),
        start_lat_deg=draw(st.floats(-70.0, 70.0)),
        start_lon_deg=draw(st.floats(-179.0, 179.0)),
        base_altitude_m=draw(st.floats(-400.0, 4000.0)),
        terrain_amplitude_m=draw(st.floats(0.0, 50.0)),
        route=draw(st.sampled_from(["auto", "loop", "track", "out_and_back"])),
    )


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(truth=truths(), seed=st.integers(0, 2**32 - 1))
def test_any_truth_gives_a_valid_decodable_file(
    truth: RunTruth, seed: int, decode_fit: Callable[..., Any]
) -> None:
    run = simulate_run(truth, seed=seed)
    assert not run.records.isna().any().any()
    data = encode_run(run)
    dec = decode_fit(data)  # integrity + no decoder errors
    recs = dec.messages["record_mesgs"]
    assert len(recs) == len(run.records)
    expected = {
        "timestamp",
        "position_lat",
        "position_long",
        "distance",
        "enhanced_speed",
        "enhanced_altitude",
        "heart_rate",
        "cadence",
        "fractional_cadence",
    }
    if truth.sensor != "none":
        expected |= set(_DYNAMICS)
    for r in (recs[0], recs[len(recs) // 2], recs[-1]):
        assert expected <= {k for k, v in r.items() if v is not None}  # no invalid (missing) value
    bal = np.array([r.get("stance_time_balance", 50.0) for r in recs])
    assert ((bal > 0) & (bal < 100)).all()
    assert len(dec.messages["lap_mesgs"]) == len(run.laps)
    assert dec.messages["session_mesgs"][0]["total_timer_time"] == run.timer_s
    ev = [e for e in dec.messages["event_mesgs"] if e["event"] == "timer"]
    assert len(ev) == len(run.events)
    for col in dec.records.columns:  # every record field round-trips to FIT resolution
        np.testing.assert_allclose(dec.records[col], run.records[col], rtol=0, atol=1e-9, err_msg=col)
