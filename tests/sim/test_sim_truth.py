"""RunTruth: presets resolve to explicit plans, validation, JSON round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

import stridelab.sim as sim
from stridelab.sim import RUN_KINDS, Pause, RunTruth, Segment, plan_segments


def test_public_api_is_exactly_all() -> None:
    public = {n for n in dir(sim) if not n.startswith("_")} - {"annotations"}
    assert set(sim.__all__) <= public
    assert all(
        callable(getattr(sim, n)) or isinstance(getattr(sim, n), (str, tuple, dict)) for n in sim.__all__
    )


@pytest.mark.parametrize("kind", [k for k in RUN_KINDS if k != "custom"])
def test_presets_resolve_to_segments(kind: str) -> None:
    t = RunTruth(kind=kind, duration_s=3000.0, warmup_s=600.0)  # type: ignore[arg-type]
    assert t.segments, kind
    assert t.segments[0].kind == "warmup"
    assert t.duration_s == pytest.approx(sum(s.duration_s for s in t.segments))
    assert abs(t.duration_s - 3000.0) <= 300.0  # presets keep roughly the planned duration
    assert t.laps == ("segments" if kind in ("intervals", "hills") else "distance")
    assert t.route == {"intervals": "track", "hills": "out_and_back"}.get(kind, "loop")


def test_hills_go_up_and_come_back_down() -> None:
    segs = plan_segments("hills", easy_speed_m_s=3.0, duration_s=2400, warmup_s=600, hill_grade_pct=8.0)
    ups = [s for s in segs if s.kind == "hill_up"]
    downs = [s for s in segs if s.kind == "hill_down"]
    assert ups and len(ups) == len(downs)
    for u, d in zip(ups, downs, strict=True):
        assert u.grade_pct == 8.0 and d.grade_pct == -8.0
        assert u.duration_s * u.speed_m_s == pytest.approx(d.duration_s * d.speed_m_s, rel=0.02)


def test_walk_breaks_are_inserted_in_steady_blocks() -> None:
    t = RunTruth(kind="long", duration_s=4200, walk_break_every_s=600, walk_break_s=60)
    walks = [s for s in t.segments if s.kind == "walk"]
    assert len(walks) >= 4
    assert all(not s.new_lap for s in walks)
    assert t.duration_s == pytest.approx(4200)


def test_start_time_is_normalised_to_whole_utc_seconds() -> None:
    cet = timezone(timedelta(hours=1))
    t = RunTruth(start_time=datetime(2026, 3, 1, 7, 0, 5, 700_000, tzinfo=cet))
    assert t.start_time == datetime(2026, 3, 1, 6, 0, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        RunTruth(start_time=datetime(2026, 3, 1))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "sprint"}, "Invalid value for the 'kind' parameter"),
        ({"sensor": "stryd"}, "Allowed values are 'hrm_pro', 'hrm_run', 'rd_pod', 'none'"),
        ({"balance_noise_phi": 1.0}, "balance_noise_phi"),
        ({"ref_speed_m_s": 0.0}, "ref_speed_m_s"),
        ({"balance_drift_pp_per_h": float("nan")}, "finite"),
        ({"kind": "custom"}, "explicit segments"),
        ({"pauses": (Pause(5000.0, 30.0),)}, "not inside the run"),
        ({"start_time": datetime(1989, 6, 1, tzinfo=UTC)}, "FIT date_time"),
        ({"start_lat_deg": 89.0}, "start_lat_deg"),
        ({"product": "fr9999"}, "unknown Garmin product"),
    ],
)
def test_invalid_truth_is_rejected(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RunTruth(**kwargs)  # type: ignore[arg-type]


def test_invalid_segment_is_rejected() -> None:
    with pytest.raises(ValueError, match="speed_m_s"):
        Segment("steady", 60.0, 12.0)
    with pytest.raises(ValueError, match="Invalid value for the 'kind' parameter"):
        Segment("jog", 60.0, 3.0)  # type: ignore[arg-type]


def test_json_round_trip_is_exact() -> None:
    t = RunTruth(
        kind="hills",
        pauses=(Pause(700.0, 45.0), Pause(300.0, 20.0)),
        lap_balance_offsets_pp={3: 0.5, 1: -0.25},
        sensor="rd_pod",
        walk_break_every_s=None,
        segments=(Segment("warmup", 300, 2.5), Segment("steady", 900, 3.2, balance_offset_pp=0.7)),
    )
    text = json.dumps(t.to_dict())
    back = RunTruth.from_dict(json.loads(text))
    assert back == t
    assert back.pauses[0].at_timer_s == 300.0  # sorted
    assert dict(back.lap_balance_offsets_pp) == {1: -0.25, 3: 0.5}
    with pytest.raises(ValueError, match="Unknown RunTruth parameters"):
        RunTruth.from_dict({**t.to_dict(), "bogus": 1})


def test_lap_offsets_are_read_only_and_replace_replans() -> None:
    t = RunTruth(lap_balance_offsets_pp={0: 1.0})
    with pytest.raises(TypeError):
        t.lap_balance_offsets_pp[0] = 2.0  # type: ignore[index]
    t2 = t.replace(kind="intervals")
    assert t2.laps == "segments" and t2.route == "track"
    assert any(s.kind == "interval" for s in t2.segments)
    t3 = t.replace(balance_left_pct_at_ref=49.0)
    assert t3.segments == t.segments
    assert len({t, RunTruth(lap_balance_offsets_pp={0: 1.0}), t3}) == 2  # hashable, equal truths hash equal
