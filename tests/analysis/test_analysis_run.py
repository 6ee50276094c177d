"""Per-run analysis: truth recovery, invariances, the JSON contract and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from _analysis_helpers import laps_frame
from scipy import stats

from _simstore import HRM_PRO
from stridelab.analysis import AnalysisConfig, Estimate, RunAnalysis, analyze_run
from stridelab.analysis.validation import ValidationResult, validate_with_sim
from stridelab.model import RUNNING_DYNAMICS_COLUMNS
from stridelab.present.analysis import run_analysis_json
from stridelab.sim import RunTruth, simulate_run


def _no_nan(obj: object) -> None:
    """Fails on any NaN/inf anywhere in a JSON-ready structure."""
    text = json.dumps(obj, allow_nan=False, default=str)
    assert "NaN" not in text


@pytest.fixture(scope="module")
def tempo() -> tuple[RunTruth, RunAnalysis]:
    truth = RunTruth(
        kind="tempo", duration_s=3600, balance_speed_slope_pp_per_m_s=0.8, balance_drift_pp_per_h=1.0
    )
    run = simulate_run(truth, seed=11)
    return truth, analyze_run(run.records, laps_frame(run), devices=HRM_PRO)


def test_recovers_declared_truth(tempo: tuple[RunTruth, RunAnalysis]) -> None:
    truth, a = tempo
    slope = a.speed_slope("balance")
    drift = a.drift_per_h("balance")
    assert slope is not None and slope.contains(0.8)
    assert drift is not None and drift.contains(1.0)
    model = a.models["balance"]
    at = a.at_ref("balance", truth.ref_speed_m_s)
    assert at is not None
    expected = truth.balance_left_pct_at_ref + truth.balance_drift_pp_per_h * model.ref_time_h
    assert model.ref_time_h == pytest.approx(600.0 / 3600.0)  # minute 10, not the run's mean time
    assert abs(at.estimate - expected) < 0.15
    gct_slope = a.speed_slope("gct")
    assert gct_slope is not None and gct_slope.contains(truth.gct_speed_slope_s_per_m_s)
    assert a.sensor.label == "Garmin HRM-Pro"


def test_json_contract(tempo: tuple[RunTruth, RunAnalysis]) -> None:
    _truth, a = tempo
    d = run_analysis_json(a, ref_speed_m_s=3.1)
    b = d["balance"]
    for key in ("mean_left_pct", "median_left_pct", "at_ref_speed_left_pct", "ref_speed_m_s"):
        assert isinstance(b[key], float)
    assert b["ref_speed_m_s"] == 3.1
    for key in ("speed_slope_pp_per_m_s", "drift_pp_per_h"):
        e = b[key]
        assert e["ci_low"] <= e["estimate"] <= e["ci_high"]
    assert set(b["zones_s"]) == {"red_left", "orange_left", "green", "orange_right", "red_right"}
    assert sum(b["zones_s"].values()) == pytest.approx(a.summaries["balance"].seconds)
    g = d["gct_ms"]
    assert 150 < g["mean"] < 400 and 150 < g["at_ref_speed"] < 400
    assert isinstance(g["drift_per_h"], float)
    assert g["drift_per_h_ci"][0] <= g["drift_per_h"] <= g["drift_per_h_ci"][1]
    assert isinstance(d["excluded_s"], float) and isinstance(d["flags"], list)
    _no_nan(d)
    # a faster reference speed moves balance along the fitted slope
    d2 = run_analysis_json(a, ref_speed_m_s=3.6)
    slope = b["speed_slope_pp_per_m_s"]["estimate"]
    assert d2["balance"]["at_ref_speed_left_pct"] - b["at_ref_speed_left_pct"] == pytest.approx(0.5 * slope)


def test_cache_round_trip(tempo: tuple[RunTruth, RunAnalysis]) -> None:
    _truth, a = tempo
    back = RunAnalysis.from_cache(json.loads(json.dumps(a.to_cache())))
    assert run_analysis_json(back, 3.0) == run_analysis_json(a, 3.0)


def test_left_right_mirror_invariance() -> None:
    run = simulate_run(RunTruth(kind="easy", duration_s=2400), seed=12)
    mirrored = run.records.copy()
    mirrored["stance_time_balance_left_pct"] = 100.0 - mirrored["stance_time_balance_left_pct"]
    a, m = analyze_run(run.records), analyze_run(mirrored)
    ea, em = a.at_ref("balance", 3.0), m.at_ref("balance", 3.0)
    assert ea is not None and em is not None
    assert em.estimate == pytest.approx(100.0 - ea.estimate)
    da, dm = a.drift_per_h("balance"), m.drift_per_h("balance")
    assert da is not None and dm is not None and dm.estimate == pytest.approx(-da.estimate)
    za, zm = a.summaries["balance"].zones_s, m.summaries["balance"].zones_s
    assert za is not None and zm is not None
    assert za["red_left"] == zm["red_right"] and za["orange_right"] == zm["orange_left"]


def test_time_shift_does_not_change_results() -> None:
    run = simulate_run(RunTruth(kind="easy", duration_s=1800), seed=13)
    shifted = run.records.copy()
    shifted.index = shifted.index + pd.Timedelta(days=40)
    a, b = run_analysis_json(analyze_run(run.records), 3.0), run_analysis_json(analyze_run(shifted), 3.0)
    assert a["balance"] == b["balance"]


def test_faster_running_shortens_contact_time() -> None:
    run = simulate_run(RunTruth(kind="intervals", duration_s=2400), seed=14)
    a = analyze_run(run.records, laps_frame(run))
    slow, fast = a.at_ref("gct", 2.5), a.at_ref("gct", 4.0)
    assert slow is not None and fast is not None and fast.estimate < slow.estimate


def _validation_failures(r: ValidationResult) -> list[str]:
    """The checks a reduced validation fails (empty: all hold). Each claim is a rate p over m runs with
    a value, and the check fails when the count is beyond the 0.1 % tail of Binomial(m, p): a method that
    meets the claim exactly fails about once in a thousand seeds. Claims (the issue's): >= 90 % of runs
    modelled; 95 % CIs that cover >= 90 % (coverage was 93-97 % over 200 runs, seeds 0-2); <= 8 % false
    drift on the drift-free half; >= 90 % of in-range runs within 0.15 pp at the reference speed. The
    coverages come without their denominators m (runs with that estimate, n_modelled <= m <= n_runs):
    they use the allowed miss share at m = n_runs, ``binom.ppf(0.999, n, p) / n``, which is the smallest
    (strictest) for the m that occur here (80 runs, p = 0.1: 0.2125; m = 68..79: 0.216-0.225).
    """
    n = r.n_runs

    def allowed(m: int, p: float) -> float:  # the largest miss share a rate-p claim allows over m
        return float(stats.binom.ppf(0.999, m, p)) / m

    out = []
    if n - r.n_modelled > allowed(n, 0.10) * n:
        out.append(f"only {r.n_modelled} of {n} runs modelled")
    for name, cover in (
        ("slope", r.slope_coverage),
        ("drift", r.drift_coverage),
        ("ref CI", r.ref_ci_coverage),
        ("GCT drift", r.gct_drift_coverage),
        ("VO drift", r.vo_drift_coverage),
    ):
        if not 1 - cover <= allowed(n, 0.10):
            out.append(f"{name} coverage {cover:.3f}")
    if not r.false_drift_rate <= allowed(r.n_drift_free, 0.08):
        out.append(f"false drift {r.false_drift_rate:.3f} over {r.n_drift_free} drift-free runs")
    if not 1 - r.ref_within_015_share_in_range <= allowed(r.n_ref_in_range, 0.10):
        out.append(f"within 0.15 pp at the reference speed: {r.ref_within_015_share_in_range:.3f}")
    return out


def test_drift_free_runs_rarely_show_drift_and_coverage_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's validation (>= 90 % coverage, <= ~5 % false drift), reduced to 80 simulated runs
    with binomial thresholds (see :func:`_validation_failures`); the full 200 runs with the old fixed
    thresholds: ``python bench/validate_analysis.py``. Then shows that these checks reject a wrong
    method, judged on the very same runs and analyses: every CI half as wide ("SE halved")."""
    import stridelab.sim

    module = validate_with_sim.__globals__
    simulate, analyse = stridelab.sim.simulate_run, module["analyze_run"]
    runs: dict[tuple[RunTruth, int], object] = {}
    analyses: dict[int, RunAnalysis] = {}

    def memo_run(truth: RunTruth, seed: int) -> object:  # validate_with_sim imports it at each call
        if (truth, seed) not in runs:
            runs[truth, seed] = simulate(truth, seed=seed)
        return runs[truth, seed]

    def memo_analysis(records: pd.DataFrame, *args: object, **kwargs: object) -> RunAnalysis:
        if id(records) not in analyses:  # the records of a memoised run: one object per run
            analyses[id(records)] = analyse(records, *args, **kwargs)
        return analyses[id(records)]

    monkeypatch.setattr(stridelab.sim, "simulate_run", memo_run)
    monkeypatch.setitem(module, "analyze_run", memo_analysis)
    r = validate_with_sim(80, seed=0)
    assert r.n_runs == 80 and r.n_drift_free >= 38  # a drift-free run shorter than 20 min has no drift
    assert _validation_failures(r) == [], r

    def half_as_wide(self: Estimate, value: float) -> bool:
        return abs(value - (self.ci_low + self.ci_high) / 2) <= (self.ci_high - self.ci_low) / 4

    monkeypatch.setattr(Estimate, "contains", half_as_wide)
    wrong = validate_with_sim(80, seed=0)
    assert len(runs) == len(analyses) == 80  # nothing simulated or analysed again
    # the parametric covariance is conservative on this AR(1)-only noise (coverage 97-99 %, see
    # bench/validate_uncertainty.py), so halving every CI fails fewer checks than with the former HAC;
    # the check that the validation catches a too-narrow method under wander is in
    # tests/analysis/test_analysis_uncertainty.py
    assert len(_validation_failures(wrong)) >= 1, wrong


def test_one_hour_run_is_analysed_without_the_frame() -> None:
    # the speed budget (< 150 ms per one-hour run) is checked by bench/speed_checks.py, not here
    run = simulate_run(RunTruth(kind="easy", duration_s=3600), seed=15)
    laps = laps_frame(run)
    full = analyze_run(run.records, laps)
    lean = analyze_run(run.records, laps, keep_frame=False)
    assert run_analysis_json(lean, 3.0) == run_analysis_json(full, 3.0)


# ---------------------------------------------------------------------- bad input
def _assert_clean(a: RunAnalysis, ref: float | None = 3.0) -> dict[str, object]:
    d = run_analysis_json(a, ref)
    _no_nan(d)
    for m in d["messages"]:  # type: ignore[union-attr]
        assert isinstance(m["message"], str) and m["message"]
    return d


def test_no_running_dynamics() -> None:
    run = simulate_run(RunTruth(kind="easy", duration_s=1200, sensor="none"), seed=20)
    d = _assert_clean(analyze_run(run.records))
    assert "no_running_dynamics" in d["flags"]
    assert d["balance"]["mean_left_pct"] is None and d["balance"]["at_ref_speed_left_pct"] is None
    assert d["balance"]["drift_pp_per_h"] == {"estimate": None, "ci_low": None, "ci_high": None}
    assert d["gct_ms"]["mean"] is None


def test_treadmill_without_speed_or_gps() -> None:
    run = simulate_run(RunTruth(kind="easy", duration_s=1800), seed=21)
    rec = run.records.drop(columns=["speed_m_s", "distance_m", "lat_deg", "lon_deg", "altitude_m"])
    a = analyze_run(rec)
    d = _assert_clean(a)
    assert {"no_speed", "no_gps", "no_altitude", "drift_not_pace_adjusted"} <= set(d["flags"])
    assert d["balance"]["at_ref_speed_left_pct"] is None
    assert d["balance"]["mean_left_pct"] == pytest.approx(a.summaries["balance"].mean)
    assert d["balance"]["drift_pp_per_h"]["estimate"] is not None  # raw drift is still estimable
    assert any(m["code"] == "no_speed" for m in d["messages"])


def test_thirty_second_run() -> None:
    base = simulate_run(RunTruth(kind="easy", duration_s=600, warmup_s=0), seed=22)
    rec = base.records.iloc[:30]
    d = _assert_clean(analyze_run(rec))
    assert "too_short" in d["flags"]
    assert d["balance"]["at_ref_speed_left_pct"] is None
    assert d["balance"]["drift_pp_per_h"]["estimate"] is None


def test_all_zeros_and_empty() -> None:
    run = simulate_run(RunTruth(kind="easy", duration_s=900), seed=23)
    zeros = run.records.copy()
    for col in (*RUNNING_DYNAMICS_COLUMNS, "speed_m_s", "cadence_spm", "cadence_rpm", "distance_m"):
        zeros[col] = 0.0
    d = _assert_clean(analyze_run(zeros))
    assert "no_running_dynamics" in d["flags"] and "no_speed" in d["flags"]
    assert d["balance"]["mean_left_pct"] is None
    empty = _assert_clean(analyze_run(run.records.iloc[:0]))
    assert "no_records" in empty["flags"]


def test_nan_everywhere_is_not_a_number_presented() -> None:
    run = simulate_run(RunTruth(kind="easy", duration_s=900), seed=24)
    rec = run.records.copy()
    rec.loc[:, rec.columns.difference(["elapsed_s", "timer_s", "paused", "session_index", "lap_index"])] = (
        np.nan
    )
    d = _assert_clean(analyze_run(rec))
    assert d["balance"]["mean_left_pct"] is None


def test_24_hour_ultra() -> None:
    # the speed budget (< 5 s for 24 h of records) is checked by bench/speed_checks.py, not here
    truth = RunTruth(kind="long", duration_s=24 * 3600, easy_speed_m_s=2.3, terrain_amplitude_m=20.0)
    run = simulate_run(truth, seed=25)
    a = analyze_run(run.records, laps_frame(run), keep_frame=False)
    d = _assert_clean(a, truth.easy_speed_m_s)
    drift = d["balance"]["drift_pp_per_h"]
    assert drift["ci_low"] <= truth.balance_drift_pp_per_h <= drift["ci_high"]


def test_invalid_drift_clock() -> None:
    run = simulate_run(RunTruth(kind="easy", duration_s=600), seed=26)
    with pytest.raises(ValueError, match="Allowed values are 'elapsed', 'timer', 'running'"):
        analyze_run(run.records, drift_clock="wall")


def test_running_clock_excludes_pauses() -> None:
    from stridelab.sim import Pause

    truth = RunTruth(
        kind="easy",
        duration_s=2400,
        pauses=(Pause(1200.0, 600.0),),
        balance_drift_clock="timer",
        balance_drift_pp_per_h=2.0,
    )
    run = simulate_run(truth, seed=28)
    a = analyze_run(run.records, config=AnalysisConfig(drift_clock="timer"))
    drift = a.drift_per_h("balance")
    assert drift is not None and drift.contains(2.0)
    assert not math.isnan(drift.se)


def test_no_pace_adjusted_value_far_outside_the_runs_speeds() -> None:
    """A fast, narrow-speed run is not extrapolated to a far easier reference pace: null + reason."""
    from stridelab.analysis._run import extrapolation_too_far

    assert not extrapolation_too_far((3.0, 3.4), 2.8)  # 0.2 m/s out: extrapolated, flagged
    assert extrapolation_too_far((3.0, 3.4), 2.5)  # 0.5 m/s out, range 0.4 wide: refused
    assert not extrapolation_too_far((2.0, 4.0), 1.0)  # 1 m/s out of a 2 m/s wide range: fine
    run = simulate_run(RunTruth(kind="tempo", duration_s=1800, warmup_s=0.0), seed=8)
    a = analyze_run(run.records, laps_frame(run), keep_frame=False)
    speed_range = a.models["balance"].speed_range_m_s
    assert speed_range is not None
    lo, hi = speed_range
    d = _assert_clean(a, ref=lo - max(0.3, hi - lo) - 0.1)
    assert d["balance"]["at_ref_speed_left_pct"] is None
    assert "ref_speed_extrapolated" in d["flags"]
    assert any("too far outside" in m["message"] for m in d["messages"])  # type: ignore[union-attr]
    assert d["balance"]["mean_left_pct"] is not None  # the raw summaries stay
