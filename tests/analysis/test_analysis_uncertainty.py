"""Per-run intervals under the noise model fitted to real files (issue 13): a small seeded slice of
bench/validate_uncertainty.py that still fails when the covariance assumes AR(1) (the former HAC)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stridelab.analysis import AnalysisConfig, analyze_run
from stridelab.analysis._noise_cov import expected_residual_autocov, parametric_ols
from stridelab.analysis.validation_uncertainty import validate_uncertainty


def _wander_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    from scipy.signal import lfilter

    def ar1(sd: float, r: float) -> np.ndarray:
        z = rng.standard_normal(n)
        e = sd * np.sqrt(1 - r * r) * z
        e[0] = sd * z[0]
        return np.asarray(lfilter([1.0], [1.0, -r], e))

    return ar1(0.4, 0.96) + ar1(0.3, float(np.exp(-1 / 240)))


def test_drift_coverage_under_wander_beats_the_ar1_hac() -> None:
    """Drift slope coverage on pure fast + slow noise (no simulator): the parametric covariance
    covers; the former prewhitened HAC (AR(1) bandwidth) misses far more often."""
    from stridelab.analysis._hac import hac_ols

    rng = np.random.default_rng(7)
    new_hits, old_hits = [], []
    for _ in range(60):
        n = int(rng.uniform(1800, 3600))
        t_h = np.arange(n) / 3600.0
        x = np.column_stack([np.ones(n), t_h - t_h.mean()])
        y = _wander_noise(rng, n)
        new = parametric_ols(y, x, ("const", "time"), np.arange(n, dtype=float))
        old = hac_ols(y, x, ("const", "time"), prewhiten=True)
        for fit, hits in ((new, new_hits), (old, old_hits)):
            est, se = fit.estimate({"time": 1.0})
            hits.append(abs(est) <= fit.crit * se)
    assert np.mean(new_hits) >= 0.88  # 95 % nominal; binomial slack for 60 runs
    assert np.mean(old_hits) <= 0.80  # the AR(1)-only SE under-covers under wander
    assert np.mean(new_hits) - np.mean(old_hits) >= 0.12


def test_expected_residual_autocov_matches_monte_carlo() -> None:
    """The bias correction: E[sum u_t u_t+h] of OLS residuals of AR(1) noise, exact vs simulated."""
    rng = np.random.default_rng(3)
    n = 400
    mask = np.ones(n, dtype=bool)
    mask[100:130] = False  # a gap
    t = np.arange(n, dtype=float)
    x = np.column_stack([np.ones(n), t / n])[mask]
    q = np.zeros((n, 2))
    q[mask] = np.linalg.qr(x)[0]
    lags = np.array([0, 1, 5, 20])
    exact = expected_residual_autocov(mask, q, q, 0.9, lags)
    from scipy.signal import lfilter

    acc = np.zeros(len(lags))
    reps = 400
    for _ in range(reps):
        z = rng.standard_normal(n)
        e = np.sqrt(1 - 0.81) * z
        e[0] = z[0]
        u = np.asarray(lfilter([1.0], [1.0, -0.9], e))[mask]
        r = u - x @ np.linalg.lstsq(x, u, rcond=None)[0]
        g = np.zeros(n)
        g[mask] = r
        acc += [g[: n - h] @ g[h:] for h in lags]
    assert acc / reps == pytest.approx(exact, rel=0.08, abs=3.0)


def test_simulated_runs_fitted_and_ar1_small_slice() -> None:
    """A seeded slice of the bench (12 runs per model): the balance intervals cover, drift-free runs
    are rarely significant, and the speed slope is not attenuated by the GPS speed error."""
    for model in ("fitted", "ar1"):
        r = validate_uncertainty(12, seed=5, noise_model=model, max_duration_s=2700.0)
        for q in ("slope", "at_ref", "drift"):
            assert r.n["balance"][q] >= 10
            assert r.coverage["balance"][q] >= 0.75, (model, q, r.coverage)
        assert r.false_drift["balance"] <= 0.34
        assert abs(r.slope_attenuation["gct"]) <= 0.15, (model, r.slope_attenuation)


def _records(n: int, balance: np.ndarray, speed: np.ndarray | None) -> pd.DataFrame:
    idx = pd.date_range("2026-01-05 06:00", periods=n, freq="1s", tz="UTC", name="time")
    df = pd.DataFrame(
        {
            "elapsed_s": np.arange(n, dtype=float),
            "timer_s": np.arange(n, dtype=float),
            "stance_time_balance_left_pct": balance,
            "stance_time_s": 0.25 + 0.001 * np.sin(np.arange(n) / 30.0),
            "cadence_spm": np.full(n, 170.0),
        },
        index=idx,
    )
    if speed is not None:
        df["speed_m_s"] = speed
        df["distance_m"] = np.cumsum(speed)
    return df


def test_all_equal_balance_is_null_with_the_reason() -> None:
    n = 1800
    a = analyze_run(_records(n, np.full(n, 50.0), np.full(n, 3.0) + 0.2 * np.sin(np.arange(n) / 200)))
    assert "balance" not in a.models
    assert any(m["code"] == "balance_not_modelled" and "distinct" in m["message"] for m in a.messages)


def test_reference_time_is_minute_ten_not_the_mean_time() -> None:
    """A long run with drift reads the same fresh value as a short one (issue 13, point 3)."""
    rng = np.random.default_rng(1)
    values = []
    for n in (1800, 5400):
        t_h = np.arange(n) / 3600.0
        speed = 3.0 + 0.3 * np.sin(np.arange(n) / 300.0)
        bal = 51.5 + 0.8 * t_h + 0.5 * (speed - 3.0) + 0.05 * rng.standard_normal(n)
        a = analyze_run(_records(n, np.round(bal, 2), speed), config=AnalysisConfig())
        m = a.models["balance"]
        assert m.ref_time_h == pytest.approx(600.0 / 3600.0)
        est = a.at_ref("balance", 3.0)
        assert est is not None
        values.append(est.estimate)
    truth = 51.5 + 0.8 * 600.0 / 3600.0
    assert values[0] == pytest.approx(truth, abs=0.06)
    assert values[1] == pytest.approx(truth, abs=0.06)


def test_constant_speed_with_gps_noise_has_no_speed_term() -> None:
    """A steady run whose recorded speed varies only by GPS error: no slope fitted to noise (an
    IV slope on an irrelevant instrument would be a number with a meaningless CI)."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(2)
    n = 2400
    e = 0.15 * np.sqrt(1 - 0.25) * rng.standard_normal(n)
    gps = np.asarray(lfilter([1.0], [1.0, -0.5], e))
    bal = 50.5 + 0.3 * rng.standard_normal(n)
    a = analyze_run(_records(n, np.round(bal, 2), 3.0 + gps))
    model = a.models["balance"]
    assert "speed" not in model.terms
    msg = next(m["message"] for m in a.messages if m["code"] == "no_speed_term")
    assert "GPS noise" in msg
    assert a.at_ref("balance", 3.0) is not None  # within 0.05 m/s of its own speed: the run's value
    assert a.at_ref("balance", 3.5) is None  # nothing extrapolated


def test_fast_noise_fit_equals_the_fft_form() -> None:
    """The time-domain grid (one pass for all candidate kernels) gives the former per-kernel FFT
    form's expectations, noise fit and covariance to 1e-9 (relative) - on a design with gaps and an
    oblique IV projection, and end to end on a simulated run's analysis."""
    import math

    from stridelab.analysis import _noise_cov as nc
    from stridelab.sim import RunTruth, apply_noise_model, simulate_run

    rng = np.random.default_rng(3)
    n = 2400
    mask = rng.random(n) > 0.05
    mask[700:820] = False
    t_h = np.arange(n) / 3600.0
    speed = 3.0 + 0.3 * np.sin(t_h * 9.0) + 0.1 * rng.standard_normal(n)
    inst = 3.0 + 0.3 * np.sin(t_h * 9.0)
    x = np.column_stack([np.ones(n), speed - 3.0, t_h - 0.3]) * mask[:, None]
    z = np.column_stack([np.ones(n), inst - 3.0, t_h - 0.3]) * mask[:, None]
    b = z @ np.linalg.inv(x.T @ z).T
    lags = np.array([h for h in nc._LAGS_S if h < n // 2])
    rs = [0.0, 0.5, 0.92, math.exp(-1.0 / 240.0)]
    fast = nc.expected_residual_autocov_grid(mask, x, b, rs, lags)
    ref = np.stack([expected_residual_autocov(mask, x, b, r, lags) for r in rs])
    assert np.max(np.abs(fast - ref)) <= 1e-9 * np.max(np.abs(ref))

    u = _wander_noise(rng, n) * mask
    a = nc._fit_noise(mask, x, b, u, float(n))
    r = nc._fit_noise(mask, x, b, u, float(n), _reference=True)
    for name in ("white_var", "fast_var", "slow_var", "fast_r", "slow_tau_s", "df"):
        va, vr = getattr(a, name), getattr(r, name)
        assert abs(va - vr) <= 1e-9 * max(abs(vr), 1e-12), name

    truth = apply_noise_model(RunTruth(kind="easy", duration_s=2400), "fitted")
    run = simulate_run(truth, seed=5)
    laps = pd.DataFrame({"lap_index": [0], "start_s": [0.0], "end_s": [2400.0]})
    new = analyze_run(run.records, laps, keep_frame=False)
    orig = nc._fit_noise
    nc._fit_noise = lambda *args, **kw: orig(*args, **kw, _reference=True)  # type: ignore[assignment]
    try:
        old = analyze_run(run.records, laps, keep_frame=False)
    finally:
        nc._fit_noise = orig
    assert set(new.models) == set(old.models) and len(new.models) >= 3
    for metric, m_new in new.models.items():
        m_old = old.models[metric]
        pairs = [(m_new.fit, m_old.fit)]
        if m_new.thirds is not None and m_old.thirds is not None:
            pairs.append((m_new.thirds, m_old.thirds))
        for f_new, f_old in pairs:
            np.testing.assert_allclose(f_new.beta, f_old.beta, rtol=1e-9, atol=0.0)
            scale = float(np.max(np.abs(f_old.cov)))
            assert np.max(np.abs(f_new.cov - f_old.cov)) <= 1e-9 * scale, metric
            assert abs(f_new.crit - f_old.crit) <= 1e-9 * f_old.crit, metric


def test_vertical_ratio_is_modelled_as_vr_times_speed() -> None:
    """VR = 100 VO / step length ~ 1 / speed: with a speed term it is modelled as VR x speed, and its
    slope, value at the reference and drift are exact linear combinations of that fit: the slope is
    the derivative of the value curve, the drift its change per hour at the median speed, the JSON
    round trip keeps the scale; on a run with a wide speed range (2.6-3.8 m/s) and little noise the
    truths lie in the intervals (a straight line in speed is biased there by the 1/v curvature)."""
    from stridelab.analysis._run import MetricModel
    from stridelab.analysis.validation_uncertainty import _truths
    from stridelab.sim import RunTruth, Segment, simulate_run

    segs = tuple(Segment("steady", 240.0, v) for v in (2.6, 3.2, 3.8, 2.9, 3.5, 2.7, 3.6, 3.0, 3.4, 2.8) * 2)
    truth = RunTruth(
        kind="custom",
        segments=(Segment("warmup", 300.0, 2.6), *segs),
        laps="segments",
        vertical_oscillation_noise_sd_m=0.0015,
        cadence_noise_sd_spm=0.5,
    )
    run = simulate_run(truth, seed=11)
    a = analyze_run(run.records, config=AnalysisConfig())
    m = a.models["vr"]
    assert m.scale == "times_speed" and m.fit.has("speed") and m.fit.has("time")
    vc = m.fit.centers["speed"]
    d = 1e-4
    num = (m.at_speed(vc + d).estimate - m.at_speed(vc - d).estimate) / (2 * d)  # type: ignore[union-attr]
    slope = m.coefficient("speed")
    assert slope is not None and abs(slope.estimate - num) < 1e-6 * max(1.0, abs(num))
    back = MetricModel.from_dict(m.to_dict())
    assert back.scale == "times_speed" and back.at_speed(3.0) == m.at_speed(3.0)
    tr = _truths(truth, 3.0, m.ref_time_h, vc)["vr"]
    drift = m.coefficient("time")
    at = m.at_speed(3.0)
    assert slope.contains(tr["slope"]) and at is not None and at.contains(tr["at_ref"])
    assert drift is not None and drift.contains(tr["drift"])
    assert a.models["balance"].scale == "value"
