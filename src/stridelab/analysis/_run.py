"""Per-run analysis: clean-running summary, colour zones, pace-adjusted models and fatigue drift.

:func:`analyze_run` is the one verb. It returns a :class:`RunAnalysis`, whose numbers are all SI; the
presentation units (%, ms, mm, per hour) appear only in :mod:`stridelab.present` (the JSON contract of
``stridelab analyze --json`` is :func:`stridelab.present.analysis.run_analysis_json`).

The model, per metric y (balance, GCT, VO, vertical ratio), over the "model" samples (see
:mod:`stridelab.analysis._segments`)::

    y = b0 + b_speed (v - v_c) + b_grade grade + b_lat a_lat + b_drift (t - t_c) + u

``v`` is the recorded speed, ``v_c`` the run's median modelled speed, ``grade`` rise/run from altitude
and distance, ``a_lat`` the signed lateral acceleration in turns (only in runs with many turns, e.g.
a track), ``t`` the drift clock in hours (elapsed time since the start by default) and ``t_c`` its
mean. ``u`` is autocorrelated: Newey–West HAC covariance, see :mod:`stridelab.analysis._hac`.
The value "at the reference speed" is ``b0 + b_speed (v_ref - v_c)`` (flat, straight, at ``t_c``);
"at the start" additionally subtracts ``b_drift t_c``.
"""

from __future__ import annotations

import dataclasses
import time as _time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stridelab.analysis._config import ANALYSIS_VERSION, AnalysisConfig
from stridelab.analysis._hac import LinearFit, hac_ols
from stridelab.analysis._metrics import (
    BALANCE_ZONE_NAMES,
    GAUGE_ZONE_NAMES,
    METRICS,
    MODELLED_METRICS,
    balance_zone_index,
    gauge_zone_index,
    gauge_zones_for,
)
from stridelab.analysis._noise_cov import NoiseFit, parametric_ols_noise, single_thread_blas
from stridelab.analysis._segments import EXCLUSION_REASONS, RunFrame, _rolling, prepare_run
from stridelab.analysis._sensor import SensorInfo, detect_sensor
from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "Estimate",
    "MetricModel",
    "MetricSummary",
    "RunAnalysis",
    "analyze_run",
    "ref_speed_issue",
    "ref_speed_note",
]

_SECONDS_PER_HOUR = 3600.0
#: a run without a speed term gives its own (not pace-adjusted) value at a reference speed only this
#: close to its speeds (the 2-98 % range of its speed instrument, not of the GPS-noisy samples): its CI
#: does not hold the pace mismatch, which at 0.15 m/s made GCT at the reference speed cover 38 %
SINGLE_SPEED_TOLERANCE_M_S = 0.05
#: metrics proportional to 1 / speed (VR = 100 VO / step length): with a speed term they are modelled
#: as value x recorded speed (``MetricModel.scale == "times_speed"``; docs/analysis.md, section 3)
PER_SPEED_METRICS: tuple[str, ...] = ("vr",)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its two-sided confidence interval (SI units)."""

    estimate: float
    ci_low: float
    ci_high: float
    se: float

    def scaled(self, factor: float) -> dict[str, float]:
        """``{estimate, ci_low, ci_high}`` multiplied by ``factor`` (a unit conversion)."""
        lo, hi = sorted((self.ci_low * factor, self.ci_high * factor))
        return {"estimate": self.estimate * factor, "ci_low": lo, "ci_high": hi}

    def contains(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high


@dataclass(frozen=True, slots=True)
class MetricSummary:
    """Distribution of one metric over clean running (SI), and time per colour zone (s)."""

    mean: float
    median: float
    p25: float
    p75: float
    n: int
    seconds: float
    mean_recorded: float | None  # every recorded value incl. zeros (what the device summary averages)
    zones_s: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class MetricModel:
    """The fitted pace/grade/drift model of one metric plus the first-vs-last-third comparison."""

    fit: LinearFit
    thirds: LinearFit | None
    speed_range_m_s: tuple[float, float] | None
    time_center_h: float
    time_span_h: float
    terms: tuple[str, ...]
    reference_time_h: float | None = None  # the drift-clock time "at the reference speed" refers to
    #: "value": the fit is of the metric itself; "times_speed": of metric x recorded speed (VR), so
    #: the metric at speed v is fit(v) / v, its speed slope d/dv (fit(v) / v) at the run's median
    #: speed and the reference time, its drift and other coefficients fit's / median speed
    scale: str = "value"
    resid: np.ndarray | None = field(default=None, repr=False, compare=False)  # not serialised
    resid_t_s: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def ref_time_h(self) -> float:
        """The time at which :meth:`at_speed` evaluates the model: the configured reference time
        (minute 10 by default) when the model has a drift term, else the run's mean time."""
        if self.reference_time_h is not None and self.fit.has("time"):
            return self.reference_time_h
        return self.time_center_h

    def at_speed(self, speed_m_s: float | None, *, at_start: bool = False) -> Estimate | None:
        """Model value at ``speed_m_s`` on flat ground, straight, at the reference time
        (:attr:`ref_time_h`; or at t = 0 with ``at_start``)."""
        w: dict[str, float] = {"const": 1.0}
        if self.fit.has("speed"):
            if speed_m_s is None:
                return None
            if extrapolation_too_far(self.speed_range_m_s, speed_m_s):
                return None  # a straight line fitted over these speeds says nothing that far away
            w["speed"] = speed_m_s - self.fit.centers["speed"]
        elif speed_m_s is not None and self.speed_range_m_s is not None:
            lo, hi = self.speed_range_m_s
            if not (lo - SINGLE_SPEED_TOLERANCE_M_S <= speed_m_s <= hi + SINGLE_SPEED_TOLERANCE_M_S):
                return None  # a single-speed run says nothing about another speed
        elif speed_m_s is not None:
            return None
        if at_start:
            if not self.fit.has("time"):
                return None
            w["time"] = -self.time_center_h
        elif self.fit.has("time"):
            w["time"] = self.ref_time_h - self.time_center_h
        if self.scale == "times_speed":
            if speed_m_s is None or speed_m_s <= 0:
                return None
            return _estimate(self.fit, {k: v / speed_m_s for k, v in w.items()})
        return _estimate(self.fit, w)

    @property
    def _per_speed(self) -> float | None:
        """1 / the run's median speed for a ``times_speed`` model (else None)."""
        if self.scale != "times_speed" or "speed" not in self.fit.centers:
            return None
        return 1.0 / self.fit.centers["speed"]

    def coefficient(self, name: str) -> Estimate | None:
        """A coefficient of the metric (SI per unit of the term). For a ``times_speed`` model the
        speed slope is d/dv (fit(v) / v) = (b_speed - fit(v_c) / v_c) / v_c at the median speed v_c
        and the reference time; the others are the fit's / v_c (the drift at the median speed)."""
        if not self.fit.has(name):
            return None
        inv = self._per_speed
        if inv is None:
            return _estimate(self.fit, {name: 1.0})
        if name != "speed":
            return _estimate(self.fit, {name: inv})
        w = {"speed": inv, "const": -(inv**2)}
        if self.fit.has("time"):
            w["time"] = -(inv**2) * (self.ref_time_h - self.time_center_h)
        return _estimate(self.fit, w)

    def thirds_difference(self) -> Estimate | None:
        if self.thirds is None:
            return None
        inv = self._per_speed or 1.0
        return _estimate(self.thirds, {"last_third": inv, "first_third": -inv})

    def to_dict(self) -> dict[str, Any]:
        return {
            "fit": self.fit.to_dict(),
            "thirds": self.thirds.to_dict() if self.thirds else None,
            "speed_range_m_s": list(self.speed_range_m_s) if self.speed_range_m_s else None,
            "time_center_h": self.time_center_h,
            "time_span_h": self.time_span_h,
            "terms": list(self.terms),
            "reference_time_h": self.reference_time_h,
            "scale": self.scale,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MetricModel:
        sr = d.get("speed_range_m_s")
        return cls(
            fit=LinearFit.from_dict(d["fit"]),
            thirds=LinearFit.from_dict(d["thirds"]) if d.get("thirds") else None,
            speed_range_m_s=(float(sr[0]), float(sr[1])) if sr else None,
            time_center_h=float(d["time_center_h"]),
            time_span_h=float(d["time_span_h"]),
            terms=tuple(d["terms"]),
            reference_time_h=float(d["reference_time_h"]) if d.get("reference_time_h") is not None else None,
            scale=str(d.get("scale", "value")),
        )


def _estimate(fit: LinearFit, weights: dict[str, float]) -> Estimate:
    est, se = fit.estimate(weights)
    return Estimate(est, est - fit.crit * se, est + fit.crit * se, se)


@dataclass(slots=True)
class RunAnalysis:
    """Everything :func:`analyze_run` computes for one run (SI units).

    ``frame`` (the per-sample arrays, for charts) is not serialised; a RunAnalysis read back from the
    cache has ``frame = None``.
    """

    version: int
    n_records: int
    duration_s: float
    running_s: float
    model_s: float
    excluded_s: float
    excluded_by_reason_s: dict[str, float]
    speed_median_m_s: float | None
    sensor: SensorInfo
    summaries: dict[str, MetricSummary]
    models: dict[str, MetricModel]
    flags: list[str]
    messages: list[dict[str, str]]
    context: dict[str, Any]
    drift_clock: str
    recorded_means: dict[str, float] = field(default_factory=dict)
    frame: RunFrame | None = field(default=None, repr=False)
    elapsed_ms: float = 0.0

    # ------------------------------------------------------------------ access
    def has(self, metric: str) -> bool:
        return metric in self.summaries

    def at_ref(self, metric: str, ref_speed_m_s: float | None, *, at_start: bool = False) -> Estimate | None:
        model = self.models.get(metric)
        return model.at_speed(ref_speed_m_s, at_start=at_start) if model else None

    def speed_slope(self, metric: str) -> Estimate | None:
        model = self.models.get(metric)
        return model.coefficient("speed") if model else None

    def drift_per_h(self, metric: str) -> Estimate | None:
        model = self.models.get(metric)
        return model.coefficient("time") if model else None

    def thirds_difference(self, metric: str) -> Estimate | None:
        model = self.models.get(metric)
        return model.thirds_difference() if model else None

    # ------------------------------------------------------------------ serialisation
    def to_cache(self) -> dict[str, Any]:
        """Reference-speed-independent content, JSON-ready (the store cache keeps this)."""
        return {
            "version": self.version,
            "n_records": self.n_records,
            "duration_s": self.duration_s,
            "running_s": self.running_s,
            "model_s": self.model_s,
            "excluded_s": self.excluded_s,
            "excluded_by_reason_s": self.excluded_by_reason_s,
            "speed_median_m_s": self.speed_median_m_s,
            "sensor": self.sensor.to_dict(),
            "summaries": {
                k: {
                    "mean": s.mean,
                    "median": s.median,
                    "p25": s.p25,
                    "p75": s.p75,
                    "n": s.n,
                    "seconds": s.seconds,
                    "mean_recorded": s.mean_recorded,
                    "zones_s": s.zones_s,
                }
                for k, s in self.summaries.items()
            },
            "models": {k: m.to_dict() for k, m in self.models.items()},
            "flags": list(self.flags),
            "messages": list(self.messages),
            "context": self.context,
            "drift_clock": self.drift_clock,
            "recorded_means": self.recorded_means,
        }

    @classmethod
    def from_cache(cls, d: Mapping[str, Any]) -> RunAnalysis:
        s = d["sensor"]
        return cls(
            version=int(d["version"]),
            n_records=int(d["n_records"]),
            duration_s=float(d["duration_s"]),
            running_s=float(d["running_s"]),
            model_s=float(d["model_s"]),
            excluded_s=float(d["excluded_s"]),
            excluded_by_reason_s={k: float(v) for k, v in d["excluded_by_reason_s"].items()},
            speed_median_m_s=d.get("speed_median_m_s"),
            sensor=SensorInfo(s["label"], s["placement"], bool(s["identified"])),
            summaries={k: MetricSummary(**v) for k, v in d["summaries"].items()},
            models={k: MetricModel.from_dict(v) for k, v in d["models"].items()},
            flags=list(d["flags"]),
            messages=[dict(m) for m in d["messages"]],
            context=dict(d["context"]),
            drift_clock=str(d.get("drift_clock", "elapsed")),
            recorded_means={k: float(v) for k, v in d.get("recorded_means", {}).items()},
        )


# ---------------------------------------------------------------------- computation
def _quantiles(values: np.ndarray, q: Iterable[float]) -> list[float]:
    return [float(x) for x in np.quantile(values, list(q))]


def _summaries(frame: RunFrame, records: pd.DataFrame, sensor: SensorInfo) -> dict[str, MetricSummary]:
    running = frame.running
    out: dict[str, MetricSummary] = {}
    for key, values in frame.values.items():
        sel = running & np.isfinite(values)
        if not sel.any():
            continue
        v = values[sel]
        p25, med, p75 = _quantiles(v, (0.25, 0.5, 0.75))
        column = METRICS[key].column if key in METRICS else key
        mean_recorded: float | None = None
        if column in records.columns:
            raw = pd.to_numeric(records[column], errors="coerce").dropna()
            mean_recorded = float(raw.mean()) if len(raw) else None
        zones: dict[str, float] | None = None
        dt = frame.dt_s[sel]
        if key == "balance":
            idx = balance_zone_index(v)
            zones = {name: float(dt[idx == i].sum()) for i, name in enumerate(BALANCE_ZONE_NAMES)}
        else:
            gz = gauge_zones_for(key, sensor.placement)
            if gz is not None:
                idx = gauge_zone_index(v * METRICS[key].display_factor, gz)
                zones = {name: float(dt[idx == i].sum()) for i, name in enumerate(GAUGE_ZONE_NAMES)}
        out[key] = MetricSummary(
            mean=float(v.mean()),
            median=med,
            p25=p25,
            p75=p75,
            n=int(v.size),
            seconds=float(dt.sum()),
            mean_recorded=mean_recorded,
            zones_s=zones,
        )
    return out


def _drift_clock_h(frame: RunFrame, records: pd.DataFrame, clock: str) -> np.ndarray:
    if clock == "running":
        return np.asarray(frame.run_time_s / _SECONDS_PER_HOUR)
    if clock == "timer" and "timer_s" in records.columns:
        t = pd.to_numeric(records["timer_s"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if len(t) == frame.n and np.isfinite(t).all():
            return np.asarray((t - t[0]) / _SECONDS_PER_HOUR)
    return np.asarray((frame.t_s - (frame.t_s[0] if frame.n else 0.0)) / _SECONDS_PER_HOUR)


def _leave_out_mean(values: np.ndarray, t_s: np.ndarray, window_s: float, gap_s: float) -> np.ndarray:
    """Mean of ``values`` over the centred ``window_s`` around each sample minus its centred ``gap_s``
    neighbourhood (NaN ignored; NaN where nothing is left)."""
    idx = pd.to_timedelta(t_s - (t_s[0] if t_s.size else 0.0), unit="s")
    s = pd.Series(values, index=idx)
    outer = s.rolling(pd.Timedelta(seconds=window_s), center=True, min_periods=1)
    inner = s.rolling(pd.Timedelta(seconds=gap_s), center=True, min_periods=1)
    total = outer.sum().to_numpy(dtype="float64") - inner.sum().to_numpy(dtype="float64")
    count = outer.count().to_numpy(dtype="float64") - inner.count().to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1.0), np.nan)


def _fit_metric(
    key: str,
    frame: RunFrame,
    clock_h: np.ndarray,
    cfg: AnalysisConfig,
    use_lat: bool,
    messages: list[dict[str, str]],
) -> MetricModel | None:
    y_all = frame.values.get(key)
    if y_all is None:
        return None
    label = METRICS[key].label
    sel = frame.model & np.isfinite(y_all)
    speed = frame.speed_raw_m_s
    use_speed = frame.has_speed
    if use_speed:
        with_speed = sel & np.isfinite(speed) & (speed > 0)
        if frame.seconds(with_speed) >= 0.5 * frame.seconds(sel):
            sel = with_speed
        else:
            # a speed term fitted on a few minutes would stand for the whole run: leave speed out
            use_speed = False
            if not any(m["code"] == "speed_mostly_missing" for m in messages):
                messages.append(
                    {
                        "code": "speed_mostly_missing",
                        "message": f"speed is missing for {frame.seconds(sel & ~with_speed):.0f} s of the "
                        f"{frame.seconds(sel):.0f} s with running dynamics: the models leave speed out, so "
                        "no value is pace-adjusted (no value at the reference speed) and drift is of the "
                        "raw values",
                    }
                )
    model_s = frame.seconds(sel)
    if model_s < cfg.min_model_s or sel.sum() < cfg.min_model_samples:
        # the numbers of the message are the JSON's: modelled_s is the model-ready running of the run
        # (frame.model); the metric's own usable time also needs its value (and a speed)
        ready = frame.model
        ready_s = frame.seconds(ready)
        missing = []
        no_value_s = frame.seconds(ready & ~np.isfinite(y_all))
        if no_value_s > 0:
            missing.append(f"{no_value_s:.0f} s have no {label} value")
        if use_speed:
            no_speed_s = frame.seconds(ready & np.isfinite(y_all) & ~(np.isfinite(speed) & (speed > 0)))
            if no_speed_s > 0:
                missing.append(f"{no_speed_s:.0f} s have no speed")
        why = f" ({'; '.join(missing)})" if missing else ""
        messages.append(
            {
                "code": f"{key}_not_modelled",
                "message": f"{label}: only {model_s:.0f} s usable for the model, of the {ready_s:.0f} s of "
                f"model-ready running (modelled_s){why}; need {cfg.min_model_s:.0f} s: no pace-adjusted "
                "value or drift",
            }
        )
        return None
    y = y_all[sel]
    if np.unique(y).size < 3:
        # all-equal (or two-valued) values: a stuck or placeholder sensor; the residual covariance is
        # zero and any CI would be a zero-width lie
        messages.append(
            {
                "code": f"{key}_not_modelled",
                "message": f"{label}: the {y.size} modelled values take only {np.unique(y).size} distinct "
                "value(s) (a stuck sensor or placeholder values): no pace-adjusted value or drift",
            }
        )
        return None
    cols: list[np.ndarray] = [np.ones(y.size)]
    names: list[str] = ["const"]
    centers: dict[str, float] = {}
    speed_range: tuple[float, float] | None = None
    instrument: np.ndarray | None = None
    if use_speed:
        v = speed[sel]
        speed_range = (float(np.quantile(v, 0.02)), float(np.quantile(v, 0.98)))
        # GPS speed error in the regressor attenuates the slope (errors in variables: 7 % at 0.15 m/s).
        # The recorded speed is instrumented by its mean over a window around the sample that leaves
        # out the sample's own neighbourhood, whose GPS error is (nearly) independent of the sample's
        # while the true speed it reflects is the same (docs/analysis.md, section 3)
        usable = np.where(np.isfinite(speed) & (speed > 0), speed, np.nan)
        z_all = _leave_out_mean(usable, frame.t_s, cfg.speed_instrument_window_s, cfg.speed_instrument_gap_s)
        z = z_all[sel]
        z = np.where(np.isfinite(z), z, v)
        z_sd = float(np.std(z))
        # relevance: correlation of the instrument with the mean over the left-out neighbourhood;
        # their GPS errors are independent, so it measures the true speed variation they share
        near = _rolling(usable, frame.t_s, cfg.speed_instrument_gap_s)[sel]
        near = np.where(np.isfinite(near), near, v)
        ok = z_sd > 0 and float(np.std(near)) > 0
        relevance = float(np.corrcoef(z, near)[0, 1]) if ok else 0.0
        if z_sd >= cfg.min_speed_sd_m_s and relevance >= cfg.min_instrument_corr:
            vc = float(np.median(v))
            cols.append(v - vc)
            names.append("speed")
            centers["speed"] = vc
            instrument = z - vc
        else:
            # the run's speeds without their GPS noise: the range its own value stands for
            speed_range = (float(np.quantile(z, 0.02)), float(np.quantile(z, 0.98)))
        if instrument is None and not any(m["code"] == "no_speed_term" for m in messages):
            messages.append(
                {
                    "code": "no_speed_term",
                    "message": "speed barely varies in this run beyond its GPS noise (SD of the "
                    f"{cfg.speed_instrument_window_s:.0f}-s mean {z_sd:.2f} m/s, need "
                    f"{cfg.min_speed_sd_m_s:.2f}; its correlation with the mean speed around each sample "
                    f"{relevance:.2f}, "
                    f"need {cfg.min_instrument_corr:.1f}; "
                    f"{speed_range[0]:.2f}-{speed_range[1]:.2f} m/s): the "
                    "models have no speed term, so values are not pace-adjusted; a value at the reference "
                    f"speed is given only when it lies within {SINGLE_SPEED_TOLERANCE_M_S:.2f} m/s of this "
                    "run's speeds",
                }
            )
    grade = frame.grade[sel]
    finite_grade = np.isfinite(grade)
    if finite_grade.mean() >= 0.8 and float(np.nanstd(grade)) >= cfg.min_grade_sd:
        cols.append(np.where(finite_grade, grade, 0.0))
        names.append("grade")
    if use_lat:
        lat = frame.lat_acc_m_s2[sel]
        finite_lat = np.isfinite(lat)
        if finite_lat.mean() >= 0.8 and float(np.nanstd(lat)) >= cfg.min_lat_acc_sd_m_s2:
            cols.append(np.where(finite_lat, lat, 0.0))
            names.append("lat_acc")
    scale = "value"
    if key in PER_SPEED_METRICS and instrument is not None:
        # VR = 100 VO / step length = 100 VO x step rate / speed: its dependence on speed is ~ 1/v and
        # its noise is that of VO scaled by 1/v, so a straight line in v neither fits it nor its noise
        # (per-run coverage 67-89 % on AR(1) noise). VR x v = 100 VO x step rate is a product of two
        # near-linear functions of speed (curvature ~0.1 % over +-0.5 m/s): model that, and give VR's
        # quantities as exact linear combinations of its coefficients at fixed speed (MetricModel)
        y = y * speed[sel]
        scale = "times_speed"
    t = clock_h[sel]
    t_center = float(t.mean())
    t_span = float(t.max() - t.min())
    base_cols, base_names = list(cols), list(names)
    if t_span * _SECONDS_PER_HOUR < cfg.min_drift_span_s and not any(
        m["code"] == "drift_not_estimated" for m in messages
    ):
        messages.append(
            {
                "code": "drift_not_estimated",
                "message": f"the modelled running spans only {t_span * _SECONDS_PER_HOUR:.0f} s: fatigue "
                f"drift needs {cfg.min_drift_span_s:.0f} s to be told from the slow wander of form "
                "(minutes), "
                "so no drift is estimated and values refer to the run's mean time",
            }
        )
    if t_span * _SECONDS_PER_HOUR >= cfg.min_drift_span_s:
        cols.append(t - t_center)
        names.append("time")
        centers["time"] = t_center
    x = np.column_stack(cols)
    t_s = frame.t_s[sel]

    noise: list[NoiseFit] = []  # the main model's residual covariance, reused by the thirds model

    def ols(xm: np.ndarray, nm: tuple[str, ...]) -> LinearFit:
        if cfg.interval_method == "hac":
            return hac_ols(y, xm, nm, confidence=cfg.confidence, centers=centers, prewhiten=cfg.hac_prewhiten)
        zm = None
        if instrument is not None:
            zm = xm.copy()
            zm[:, nm.index("speed")] = instrument
        fitted, nf = parametric_ols_noise(
            y,
            xm,
            nm,
            t_s,
            confidence=cfg.confidence,
            centers=centers,
            instruments=zm,
            noise=noise[0] if noise else None,
        )
        noise.append(nf)
        return fitted

    fit = ols(x, tuple(names))
    thirds: LinearFit | None = None
    if "time" in names:
        lo, hi = float(t.min()), float(t.max())
        first = t < lo + (hi - lo) / 3.0
        last = t >= lo + 2.0 * (hi - lo) / 3.0
        if first.sum() >= 10 and last.sum() >= 10 and (~first & ~last).sum() >= 10:
            xt = np.column_stack([*base_cols, first.astype(float), last.astype(float)])
            thirds = ols(xt, (*base_names, "first_third", "last_third"))
    return MetricModel(
        fit=fit,
        thirds=thirds,
        speed_range_m_s=speed_range,
        time_center_h=t_center,
        time_span_h=t_span,
        terms=tuple(names),
        reference_time_h=cfg.reference_time_s / _SECONDS_PER_HOUR,
        scale=scale,
        resid=y - x @ fit.beta,
        resid_t_s=t_s,
    )


def _context(
    frame: RunFrame, laps: pd.DataFrame | None, cfg: AnalysisConfig
) -> tuple[dict[str, Any], list[str]]:
    running = frame.running
    flags: list[str] = []
    ctx: dict[str, Any] = {}
    g = frame.grade
    up = running & (np.nan_to_num(g, nan=0.0) > cfg.uphill_grade)
    down = running & (np.nan_to_num(g, nan=0.0) < -cfg.uphill_grade)
    ctx["uphill_s"] = frame.seconds(up)
    ctx["downhill_s"] = frame.seconds(down)
    ctx["steep_s"] = frame.seconds(running & frame.masks["steep"])
    if frame.has_altitude and np.isfinite(g[running]).any():
        ctx["grade_pct_p05_p95"] = [float(x) * 100.0 for x in np.nanquantile(g[running], (0.05, 0.95))]
    else:
        ctx["grade_pct_p05_p95"] = None
    if ctx["uphill_s"] >= cfg.min_context_s:
        flags.append("uphill")
    if ctx["downhill_s"] >= cfg.min_context_s:
        flags.append("downhill")
    rate = np.degrees(frame.turn_rate_rad_s)
    left = running & (np.nan_to_num(rate, nan=0.0) < -cfg.turn_rate_deg_s)
    right = running & (np.nan_to_num(rate, nan=0.0) > cfg.turn_rate_deg_s)
    left_s, right_s = frame.seconds(left), frame.seconds(right)
    run_s = max(frame.seconds(running), 1e-9)
    ctx["turning_left_s"] = left_s
    ctx["turning_right_s"] = right_s
    turning_share = (left_s + right_s) / run_s
    ctx["turning_share"] = turning_share if frame.has_gps else None
    track_like = bool(
        frame.has_gps and turning_share >= 0.3 and max(left_s, right_s) >= 0.8 * (left_s + right_s)
    )
    ctx["track_like"] = track_like
    ctx["turn_direction"] = (
        None if left_s + right_s < cfg.min_context_s else ("left" if left_s >= right_s else "right")
    )
    if track_like:
        flags.append("track_bends")
    elif left_s + right_s >= cfg.min_context_s:
        flags.append("turns")
    ctx["sharp_turn_s"] = frame.seconds(running & frame.masks["sharp_turn"])
    # intervals vs steady: lap intensities, lap speeds, or the 60 s speed profile
    intervals = False
    n_laps = 0
    lap_cv = None
    if laps is not None and len(laps):
        n_laps = len(laps)
        if "intensity" in laps.columns:
            kinds = {str(x).lower() for x in laps["intensity"].dropna()}
            intervals |= bool(kinds & {"interval"}) and bool(kinds & {"recovery", "rest"})
        if "avg_speed_m_s" in laps.columns and n_laps >= 3:
            ls = pd.to_numeric(laps["avg_speed_m_s"], errors="coerce").dropna()
            ls = ls[ls > 0.5]
            if len(ls) >= 3:
                lap_cv = float(ls.std() / ls.mean())
    ctx["n_laps"] = n_laps
    ctx["lap_speed_cv"] = lap_cv
    speed_cv = None
    if frame.has_speed:
        v60 = _rolling(frame.speed_m_s, frame.t_s, 60.0)[running]
        v60 = v60[np.isfinite(v60)]
        if v60.size > 120:
            speed_cv = float(np.std(v60) / np.mean(v60))
            fast = v60 > 1.15 * np.median(v60)
            bouts = int(np.sum(np.diff(fast.astype(int)) == 1))
            intervals |= speed_cv >= cfg.intervals_cv and bouts >= 3
    ctx["speed_cv"] = speed_cv
    ctx["intervals"] = intervals
    flags.append("intervals" if intervals else "steady")
    ctx["speed_change_s"] = frame.seconds(running & frame.masks["speed_change"])
    return ctx, flags


def analyze_run(
    records: pd.DataFrame,
    laps: pd.DataFrame | None = None,
    *,
    devices: Iterable[Mapping[str, Any]] | None = None,
    config: AnalysisConfig | None = None,
    drift_clock: str | None = None,
    keep_frame: bool = True,
) -> RunAnalysis:
    """Analyse one run's canonical ``records`` (time-indexed, SI; see :mod:`stridelab.model`).

    ``laps`` (the store's laps table or a DataFrame with ``lap_index``, ``intensity``,
    ``avg_speed_m_s``) marks warm-up/cool-down laps and intervals; ``devices`` (the FIT device_info
    dicts of the catalog summary) identify the dynamics sensor. ``drift_clock`` (default
    ``config.drift_clock``) is ``"elapsed"`` (wall-clock time since the start), ``"timer"`` (pauses
    excluded) or ``"running"`` (only clean running time). Never raises on odd data: what cannot be
    computed is None plus a message.
    """
    cfg = config or AnalysisConfig()
    drift_clock = drift_clock or cfg.drift_clock
    if drift_clock not in ("elapsed", "timer", "running"):
        raise ValueError(
            "Invalid value for the 'drift_clock' parameter. Allowed values are 'elapsed', 'timer', "
            f"'running', but got {drift_clock!r} instead."
        )
    if cfg.interval_method not in ("parametric", "hac"):
        raise ValueError(
            "Invalid value for the 'interval_method' parameter. Allowed values are 'parametric', 'hac', "
            f"but got {cfg.interval_method!r} instead."
        )
    t0 = _time.perf_counter()
    frame = prepare_run(records, laps, cfg)
    messages = [{"code": c, "message": m} for c, m in frame.messages]
    flags: list[str] = []
    n = frame.n
    duration_s = float(frame.dt_s.sum()) if n else 0.0
    from_dev = any(c.startswith(("gct_from_developer", "vo_from_developer")) for c, _m in frame.messages)
    sensor = detect_sensor(devices, has_balance="balance" in frame.values, from_developer_fields=from_dev)
    dyn_keys = [k for k in ("balance", "gct", "vo", "vr", "step_length", "stance_pct") if k in frame.values]

    if n == 0:
        flags.append("no_records")
        messages.append({"code": "no_records", "message": "the run has no records; nothing can be computed"})
    if not dyn_keys:
        flags.append("no_running_dynamics")
        messages.append(
            {
                "code": "no_running_dynamics",
                "message": "no usable running dynamics (no GCT/balance/VO values, or all zero/implausible): "
                "a chest strap, Running Dynamics Pod or Stryd is needed",
            }
        )
    elif "balance" not in frame.values:
        flags.append("no_balance")
        messages.append(
            {
                "code": "no_balance",
                "message": "no GCT balance values (balance needs a chest strap or Running Dynamics Pod)",
            }
        )
    if not frame.has_speed:
        flags.append("no_speed")
        messages.append(
            {
                "code": "no_speed",
                "message": "no speed or distance (treadmill without a foot pod?): values cannot be "
                "pace-adjusted; drift is of the raw values",
            }
        )
    if not frame.has_gps:
        flags.append("no_gps")
    if not frame.has_altitude:
        flags.append("no_altitude")
    running = frame.running
    running_s = frame.seconds(running)
    if n and running_s < cfg.min_model_s:
        flags.append("too_short")
        messages.append(
            {
                "code": "too_short",
                "message": f"only {running_s:.0f} s of running (need {cfg.min_model_s:.0f} s for the models)",
            }
        )
    context, ctx_flags = _context(frame, laps, cfg) if n else ({}, [])
    flags += ctx_flags

    summaries = _summaries(frame, records, sensor) if n else {}
    if sensor.placement not in ("chest", "waist") and any(k in summaries for k in ("vo", "vr")):
        messages.append(
            {
                "code": "vo_zones_assumed_chest",
                "message": f"sensor is {sensor.label}: VO/VR zones use Garmin's chest-strap bands",
            }
        )
    clock_h = _drift_clock_h(frame, records, drift_clock) if n else np.zeros(0)
    frame.clock_h = clock_h
    use_lat = bool(context.get("track_like")) or (context.get("turning_share") or 0.0) >= 0.1
    models: dict[str, MetricModel] = {}
    with single_thread_blas():  # memory-bound products: a second BLAS thread only spins
        for key in MODELLED_METRICS:
            if key in frame.values and n:
                model = _fit_metric(key, frame, clock_h, cfg, use_lat, messages)
                if model is not None:
                    models[key] = model
    if models and not frame.has_speed:
        flags.append("drift_not_pace_adjusted")
    model_mask = frame.model if n else np.zeros(0, dtype=bool)
    model_s = frame.seconds(model_mask)
    labels = frame.reason_labels() if n else np.zeros(0, dtype=object)
    by_reason = {r: float(frame.dt_s[labels == r].sum()) for r in EXCLUSION_REASONS}
    by_reason = {k: v for k, v in by_reason.items() if v > 0}
    if frame.record_gaps_s.size:
        flags.append("record_gap")
    if n:
        context["n_record_gaps"] = int(frame.record_gaps_s.size)
        context["record_gap_s"] = float(frame.record_gaps_s.sum())
    if models and any("speed" not in m.terms for m in models.values()) and frame.has_speed:
        flags.append("no_speed_term")
    if any(m["code"] == "speed_mostly_missing" for m in messages):
        flags.append("drift_not_pace_adjusted")
    if frame.pause_gaps_s.size and by_reason.get("paused", 0.0) <= 0:
        flags.append("paused")  # a pause with no records during it: the gap, with timer stop/start
    for reason, flag in (
        ("paused", "paused"),
        ("walking", "walking"),
        ("gps_spike", "gps_spikes"),
        ("sensor_dropout", "sensor_dropouts"),
        ("stopped", "stops"),
    ):
        if by_reason.get(reason, 0.0) > 0:
            flags.append(flag)
    speed_sel = running & np.isfinite(frame.speed_raw_m_s) if n else np.zeros(0, dtype=bool)
    speed_median = (
        float(np.median(frame.speed_raw_m_s[speed_sel])) if frame.has_speed and speed_sel.any() else None
    )
    recorded_means: dict[str, float] = {}
    for column in (
        *(m.column for m in METRICS.values()),
        *(c for c in records.columns if c.startswith("dev_")),
    ):
        if column in records.columns and column not in recorded_means:
            raw = pd.to_numeric(records[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            raw = raw[np.isfinite(raw)]
            if raw.size:
                recorded_means[column] = float(raw.mean())
    if not keep_frame:  # the residuals are for charts and bench/fit_noise_model.py, like the frame
        models = {k: dataclasses.replace(m, resid=None, resid_t_s=None) for k, m in models.items()}
    return RunAnalysis(
        version=ANALYSIS_VERSION,
        n_records=n,
        duration_s=duration_s,
        running_s=running_s,
        model_s=model_s,
        excluded_s=max(duration_s - model_s, 0.0),
        excluded_by_reason_s=by_reason,
        speed_median_m_s=speed_median,
        sensor=sensor,
        summaries=summaries,
        models=models,
        flags=flags,
        messages=messages,
        context=context,
        drift_clock=drift_clock,
        recorded_means=recorded_means,
        frame=frame if keep_frame else None,
        elapsed_ms=(_time.perf_counter() - t0) * 1000.0,
    )


def extrapolation_too_far(speed_range_m_s: tuple[float, float] | None, speed_m_s: float) -> bool:
    """True when ``speed_m_s`` lies further outside the run's speed range (2-98 % quantiles) than
    max(0.3 m/s, the range's width): the within-run linear model is not extrapolated that far, so no
    value (rather than a precise-looking one whose CI ignores the model's own error) is reported."""
    if speed_range_m_s is None:
        return False
    lo, hi = speed_range_m_s
    outside = max(lo - speed_m_s, speed_m_s - hi, 0.0)
    return outside > max(0.3, hi - lo)


def ref_speed_note(analysis: RunAnalysis, ref_speed_m_s: float | None) -> str | None:
    """A warning when the reference speed lies outside the run's speeds (extrapolation)."""
    issue = ref_speed_issue(analysis, ref_speed_m_s)
    return issue[1] if issue else None


def ref_speed_issue(analysis: RunAnalysis, ref_speed_m_s: float | None) -> tuple[str, str] | None:
    """(code, message) when the reference speed lies outside the run's speeds: ``ref_speed_extrapolated``
    (extrapolated, or refused as too far), or ``ref_speed_outside_single_speed_run`` (the run has no
    speed term: its values at the reference speed are null, never extrapolated)."""
    model = analysis.models.get("balance") or next(iter(analysis.models.values()), None)
    if model is None or model.speed_range_m_s is None or ref_speed_m_s is None:
        return None
    lo, hi = model.speed_range_m_s
    if not model.fit.has("speed"):
        # no speed term (a treadmill at one speed...): MetricModel.at_speed gives the run's own value
        # within SINGLE_SPEED_TOLERANCE_M_S of its speeds and nothing further away; nothing is ever
        # extrapolated
        if lo - SINGLE_SPEED_TOLERANCE_M_S <= ref_speed_m_s <= hi + SINGLE_SPEED_TOLERANCE_M_S:
            return None
        return "ref_speed_outside_single_speed_run", (
            f"reference speed {ref_speed_m_s:.2f} m/s is outside this run's speeds ({lo:.2f}-{hi:.2f} m/s), "
            "and its speed barely varies, so the effect of pace cannot be estimated from it: no values at "
            "the reference speed for this run (null, not extrapolated)"
        )
    if extrapolation_too_far(model.speed_range_m_s, ref_speed_m_s):
        return "ref_speed_extrapolated", (
            f"reference speed {ref_speed_m_s:.2f} m/s is too far outside this run's speeds "
            f"({lo:.2f}-{hi:.2f} m/s) to extrapolate: no pace-adjusted values for this run at that "
            "speed (choose a reference pace nearer this run's with --ref-pace)"
        )
    if ref_speed_m_s < lo - 0.1 or ref_speed_m_s > hi + 0.1:
        return "ref_speed_extrapolated", (
            f"reference speed {ref_speed_m_s:.2f} m/s is outside this run's speeds "
            f"({lo:.2f}-{hi:.2f} m/s): the pace-adjusted values are extrapolated"
        )
    return None
