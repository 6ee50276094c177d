"""Personal baseline of pace-adjusted balance (and GCT, VO) and outliers explained.

For every run, the baseline is the athlete's own previous ``window_runs`` runs (at least
``min_runs``): centre = mean of their pace-adjusted values (at one reference speed, flat, from the run
analytics), spread = their sample SD (floored). The run's residual is its own pace-adjusted value minus
the centre; it is flagged ``high``/``low`` when it lies outside the *prediction interval* of a new run,
``centre ± t(n-1, 1 - a/2) x spread x sqrt(1 + 1/n)`` with ``a = 2 (1 - Phi(k_spread))`` (4.55 % for
the default ``k_spread`` 2, the two-sided tail of ±2 SD): see :func:`prediction_limit`.

The observed value is the plain mean over clean running; "expected at that pace" is the observed value
minus the residual, i.e. the baseline centre plus what the analytics attribute to this run's pace,
grade and turns.

Likely explanations are ranked by how much of the residual each could account for (pp, signed):

* ``sensor``: another sensor than the baseline's usual one (the whole residual may be a sensor bias);
* ``pace``: the run's own pace adjustment vs your usual slope at that pace
  (``(slope_run - slope_usual) x (v_ref - v_run)``), and extrapolation far from the reference pace;
* ``hills`` / ``turns``: the run's hilly or turning share vs your baseline, times the association of
  residuals with that share across your baseline runs (None when your baseline never varies in it);
* ``fatigue``: your usual drift (pp/h) x how much later in the run the value sits than usual;
* ``load``: the 7-day running distance vs the 28-day weekly average (a spike is a ratio >= 1.3), times
  the association of residuals with that ratio across your baseline runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    from stridelab.analysis._run import RunAnalysis

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "BASELINE_METRICS",
    "LOAD_SPIKE_RATIO",
    "BaselineRow",
    "DatedRun",
    "Explanation",
    "baseline_record",
    "baseline_runs",
    "baseline_table",
    "load_ratios",
    "pace_label",
    "prediction_limit",
    "weekly_loads_km",
]

#: metric -> (column of adjusted value, unit, spread floor, column of raw mean)
BASELINE_METRICS: Final[dict[str, tuple[str, str, float, str]]] = {
    "balance": ("balance_adj", "pp", 0.1, "balance_raw"),
    "gct": ("gct_adj", "ms", 1.0, "gct_raw"),
    "vo": ("vo_adj", "mm", 0.5, "vo_raw"),
}
LOAD_SPIKE_RATIO: Final[float] = 1.3
_MIN_CONTRIBUTION_PP: Final[float] = 0.05


@dataclass(frozen=True, slots=True)
class Explanation:
    """One candidate explanation of a residual: its estimated contribution (pp, signed; None when it
    cannot be quantified from your data) and what was seen."""

    factor: str
    contribution_pp: float | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "contribution_pp": self.contribution_pp, "detail": self.detail}


@dataclass(slots=True)
class BaselineRow:
    """One run against its personal baseline (balance in % left share / pp; GCT ms; VO mm)."""

    id: str
    start_time: pd.Timestamp
    speed_m_s: float | None
    pace_label: str | None
    observed_left_pct: float | None
    adjusted_left_pct: float | None
    centre_left_pct: float | None
    expected_left_pct: float | None
    spread_pp: float | None
    residual_pp: float | None
    flag: str  # normal | high | low | no_baseline | no_balance
    n_baseline_runs: int
    explanation: str
    explanations: list[Explanation] = field(default_factory=list)
    others: dict[str, dict[str, Any]] = field(default_factory=dict)
    limit_pp: float | None = None  # half-width of the normal range (prediction interval) around the centre

    def to_dict(self) -> dict[str, Any]:
        def num(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        return {
            "id": self.id,
            "start_time": self.start_time.isoformat(),
            "speed_m_s": num(self.speed_m_s),
            "pace_label": self.pace_label,
            "observed_left_pct": num(self.observed_left_pct),
            "adjusted_left_pct": num(self.adjusted_left_pct),
            "baseline_centre_left_pct": num(self.centre_left_pct),
            "expected_left_pct": num(self.expected_left_pct),
            "spread_pp": num(self.spread_pp),
            "residual_pp": num(self.residual_pp),
            "normal_range_pp": num(self.limit_pp),
            "normal_range_left_pct": None
            if self.centre_left_pct is None or self.limit_pp is None
            else [num(self.centre_left_pct - self.limit_pp), num(self.centre_left_pct + self.limit_pp)],
            "flag": self.flag,
            "n_baseline_runs": self.n_baseline_runs,
            "explanation": self.explanation,
            "explanations": [e.to_dict() for e in self.explanations],
            **{f"{k}_{kk}": v for k, d in self.others.items() for kk, v in d.items()},
        }


def _f(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def pace_label(speed_m_s: float | None, ref_speed_m_s: float | None) -> str | None:
    """Easy / steady / tempo / fast relative to the athlete's easy (reference) speed."""
    if speed_m_s is None or ref_speed_m_s is None or not (speed_m_s > 0 and ref_speed_m_s > 0):
        return None
    r = speed_m_s / ref_speed_m_s
    if r < 0.92:
        return "slow pace"
    if r <= 1.05:
        return "easy pace"
    if r <= 1.13:
        return "steady pace"
    if r <= 1.25:
        return "tempo pace"
    return "fast pace"


def _assoc(x: np.ndarray, r: np.ndarray, min_sd: float) -> float | None:
    """Slope of residuals on x across baseline runs (None when x barely varies or too few runs)."""
    ok = np.isfinite(x) & np.isfinite(r)
    if ok.sum() < 5 or float(np.std(x[ok])) < min_sd:
        return None
    xc = x[ok] - x[ok].mean()
    return float(xc @ (r[ok] - r[ok].mean()) / (xc @ xc))


def _explain(
    cur: pd.Series, win: pd.DataFrame, resid: float, centre: float, ref: float | None
) -> list[Explanation]:
    out: list[tuple[float, Explanation]] = []  # (rank key, explanation)
    sign = 1.0 if resid >= 0 else -1.0
    win_res = win["balance_adj"].to_numpy(dtype=float) - centre

    def add(e: Explanation, forced: float | None = None) -> None:
        if forced is not None:
            out.append((forced, e))
        elif e.contribution_pp is None:
            out.append((-1.0, e))
        elif abs(e.contribution_pp) >= _MIN_CONTRIBUTION_PP:
            out.append((sign * e.contribution_pp, e))

    # sensor change
    sensors = [s for s in win["sensor"].tolist() if isinstance(s, str)]
    if sensors and isinstance(cur.get("sensor"), str):
        usual = max(set(sensors), key=sensors.count)
        if cur["sensor"] != usual:
            add(
                Explanation(
                    "sensor",
                    resid,
                    f"recorded with {cur['sensor']}; your baseline is mostly {usual}: part or all of the "
                    "residual may be the sensor's bias",
                ),
                forced=1e9,
            )
    # pace
    v = _f(cur.get("speed_m_s"))
    slope_r = _f(cur.get("slope"))
    slope_usual = (
        float(np.nanmedian(win["slope"].to_numpy(dtype=float))) if win["slope"].notna().any() else np.nan
    )
    if ref is not None and math.isfinite(v):
        dv = v - ref
        if math.isfinite(slope_r) and math.isfinite(slope_usual):
            c = (slope_r - slope_usual) * (ref - v)
            label = pace_label(v, ref) or "this pace"
            detail = (
                f"{label} ({v:.2f} m/s vs reference {ref:.2f} m/s); this run's pace slope "
                f"{slope_r:+.2f} pp per m/s vs your usual {slope_usual:+.2f}"
            )
            if abs(dv) > 0.5:
                detail += "; far from the reference pace, so the adjustment is an extrapolation"
            add(Explanation("pace", c, detail))
    # hills, turns
    for factor, col, min_sd, what in (
        ("hills", "hilly_share", 0.02, "time on up/downhills"),
        ("turns", "turning_share", 0.02, "time turning"),
    ):
        x = _f(cur.get(col))
        xs = win[col].to_numpy(dtype=float)
        if not math.isfinite(x) or not np.isfinite(xs).any():
            continue
        med = float(np.nanmedian(xs))
        beta = _assoc(xs, win_res, min_sd)
        extra = " (a track)" if factor == "turns" and bool(cur.get("track_like")) else ""
        detail = f"{what} {100 * x:.0f} % vs usually {100 * med:.0f} %{extra}"
        if beta is not None:
            add(Explanation(factor, beta * (x - med), detail + f"; {beta / 100:+.3f} pp per % in your runs"))
        elif x - med > 0.1:
            add(Explanation(factor, None, detail + "; your baseline has no such runs to quantify it"))
    # fatigue (drift x where in the run the value sits)
    tc = _f(cur.get("time_center_h"))
    drift = win["drift"].to_numpy(dtype=float)
    tcs = win["time_center_h"].to_numpy(dtype=float)
    dt = tc - float(np.nanmedian(tcs)) if math.isfinite(tc) and np.isfinite(tcs).any() else 0.0
    if abs(dt) >= 1.0 / 60.0 and np.isfinite(drift).any():
        d_usual = float(np.nanmedian(drift))
        add(
            Explanation(
                "fatigue",
                d_usual * dt,
                f"reference time {60 * tc:.0f} min vs usually {60 * (tc - dt):.0f} min at your drift "
                f"{d_usual:+.2f} pp/h",
            )
        )
    # load spike
    ratio = _f(cur.get("load_ratio"))
    if math.isfinite(ratio):
        beta = _assoc(win["load_ratio"].to_numpy(dtype=float), win_res, 0.05)
        detail = (
            f"7-day running {_f(cur.get('load_7d_km')):.0f} km = {ratio:.2f} x your 4-week weekly average"
        )
        if ratio >= LOAD_SPIKE_RATIO:
            detail = "load spike: " + detail
        if beta is not None:
            med = float(np.nanmedian(win["load_ratio"].to_numpy(dtype=float)))
            add(Explanation("load", beta * (ratio - med), detail))
        elif ratio >= LOAD_SPIKE_RATIO:
            add(Explanation("load", None, detail + "; not quantifiable from your baseline"))
    out.sort(key=lambda t: -t[0])
    return [e for _, e in out]


def prediction_limit(
    values: np.ndarray,
    floor: float,
    k_spread: float = 2.0,
    *,
    ses: np.ndarray | None = None,
    se_new: float | None = None,
) -> tuple[float, float, float]:
    """(centre, spread, half-width) of the normal range of a new run, from the baseline ``values``.

    The baseline's centre and spread are *estimated* from n runs, so a new run is compared with a
    prediction interval, not with the centre ± k spreads as if both were known:
    ``mean ± t(n-1, 1 - a/2) s sqrt(1 + 1/n)``, ``a = 2 (1 - Phi(k_spread))``. For independent normal
    run-to-run deviations, (x_new - mean) / (s sqrt(1 + 1/n)) is exactly Student t with n - 1 degrees of
    freedom, so a run that belongs to the baseline falls outside with probability ``a`` whatever n.
    The previous rule (median ± 2 x 1.4826 MAD) flagged 24 % such runs at 5 runs, 16 % at 8, 9 % at 20
    (the MAD of a few values is small and noisy, and the centre's own error was ignored); a robust
    centre and scale would need a simulated constant per window size and stay near-normal in
    efficiency only with many runs, so the plain estimates with the exact t pivot are used. The spread
    is floored at ``floor`` (a flat stretch of identical values would otherwise flag any change).

    With the runs' own standard errors (``ses`` of the window's values, ``se_new`` of the new run's;
    the per-run CIs of the analysis), each value is the run's true level plus its estimation error,
    whose size differs a lot between runs (a hill run extrapolated to the reference pace: SE 0.3-0.8 pp
    vs 0.1 pp on the flat). Then the window is a random-effects sample: run-to-run variance ``tau^2``
    by DerSimonian-Laird (weights 1 / se^2, so an imprecise run neither inflates nor, through its
    large SE, deflates it), the centre is the random-effects mean (weights 1 / (se^2 + tau^2)) and the
    new run's deviation from it has variance ``tau^2 + se_new^2 + var(centre)``, with Satterthwaite's
    degrees of freedom for its estimated part (n - 1 when all SEs are equal, where this is exactly the
    interval above; more when the new run's own, known, SE dominates). Without them the per-run errors' heavy
    tail (kurtosis +9.6 on the simulator's AR(1) noise: a few imprecise runs) gave 6.1-7.3 % false
    flags at windows 8-20 (``bench/validate_trends.py``)."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    n = v.size
    centre = float(v.mean())
    s2 = float(v.var(ddof=1)) if n >= 2 else 0.0
    spread = max(math.sqrt(s2), floor)
    alpha = 2.0 * float(stats.norm.sf(k_spread))
    se = np.asarray(ses, dtype=float) if ses is not None else None
    if (
        se is not None
        and se_new is not None
        and n >= 2
        and se.shape == v.shape
        and bool(np.all(np.isfinite(se) & (se > 0)))
        and math.isfinite(se_new)
    ):
        w = 1.0 / se**2
        mean_fe = float(np.sum(w * v) / np.sum(w))
        q_stat = float(np.sum(w * (v - mean_fe) ** 2))
        c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
        tau2 = max((q_stat - (n - 1)) / c, 0.0) if c > 0 else 0.0
        wr = 1.0 / (se**2 + tau2)
        centre = float(np.sum(wr * v) / np.sum(wr))
        var = max(tau2 + se_new**2, floor**2) + 1.0 / float(np.sum(wr))
        # Satterthwaite: the estimated part is Q / c = tau^2 + the typical within-run variance
        # (n - 1) / c (Higgins & Thompson), scaled chi^2(n - 1); the rest is the new run's known SE
        est = max(q_stat, n - 1.0) / c * (1.0 + 1.0 / n) if c > 0 else var
        df = min(max((n - 1) * (var / est) ** 2, 1.0), 1e6)
        q = float(stats.t.ppf(1.0 - alpha / 2.0, df))
        return centre, spread, q * math.sqrt(var)
    q = float(stats.t.ppf(1.0 - alpha / 2.0, max(n - 1, 1)))
    return centre, spread, q * spread * math.sqrt(1.0 + 1.0 / max(n, 1))


def baseline_table(
    runs: pd.DataFrame,
    ref_speed_m_s: float | None,
    *,
    window_runs: int = 20,
    min_runs: int = 5,
    k_spread: float = 2.0,
    since: pd.Timestamp | None = None,
) -> list[BaselineRow]:
    """Baseline rows from a per-run frame (time order) with columns ``id, start_time, speed_m_s,
    balance_raw, balance_adj, balance_adj_se, slope, drift, time_center_h, hilly_share, turning_share,
    track_like, load_7d_km, load_ratio, sensor, gct_adj, gct_raw, vo_adj, vo_raw`` (missing = NaN/None;
    ``balance_adj_se``, the SE of ``balance_adj``, makes the balance flag account for each run's own
    precision when the run and its whole window have it: :func:`prediction_limit`); with ``since`` only
    the rows of the runs from then on (the earlier runs still form their baselines)."""
    runs = runs.sort_values("start_time", kind="stable").reset_index(drop=True)
    for col in (
        "balance_raw",
        "balance_adj",
        "balance_adj_se",
        "slope",
        "drift",
        "time_center_h",
        "hilly_share",
        "turning_share",
        "load_7d_km",
        "load_ratio",
        "gct_adj",
        "gct_raw",
        "vo_adj",
        "vo_raw",
        "speed_m_s",
    ):
        if col not in runs.columns:
            runs[col] = np.nan
        runs[col] = pd.to_numeric(runs[col], errors="coerce")
    for col in ("sensor", "track_like"):
        if col not in runs.columns:
            runs[col] = None
    rows: list[BaselineRow] = []
    first = 0
    if since is not None and len(runs):
        s = pd.Timestamp(since)
        s = s.tz_localize("UTC") if s.tzinfo is None else s
        first = int((pd.to_datetime(runs["start_time"], utc=True) < s).sum())
    for i in range(first, len(runs)):
        cur = runs.iloc[i]
        prev = runs.iloc[:i]
        others: dict[str, dict[str, Any]] = {}
        for metric in ("gct", "vo"):
            col, unit, floor, _raw = BASELINE_METRICS[metric]
            w = prev[prev[col].notna()].tail(window_runs)
            x = _f(cur[col])
            if len(w) >= min_runs and math.isfinite(x):
                c, _s, lim = prediction_limit(w[col].to_numpy(dtype=float), floor, k_spread)
                r = x - c
                flag = "normal" if abs(r) <= lim else ("high" if r > 0 else "low")
                others[metric] = {f"residual_{unit}": r, "flag": flag, f"normal_range_{unit}": lim}
            else:
                others[metric] = {
                    f"residual_{unit}": None,
                    "flag": "no_baseline" if math.isfinite(x) else "no_data",
                    f"normal_range_{unit}": None,
                }
        v = _f(cur["speed_m_s"])
        label = pace_label(v if math.isfinite(v) else None, ref_speed_m_s)
        adj = _f(cur["balance_adj"])
        raw = _f(cur["balance_raw"])
        base: dict[str, Any] = dict(
            id=str(cur["id"]),
            start_time=pd.Timestamp(cur["start_time"]),
            speed_m_s=v if math.isfinite(v) else None,
            pace_label=label,
            observed_left_pct=raw if math.isfinite(raw) else None,
            adjusted_left_pct=adj if math.isfinite(adj) else None,
            others=others,
        )
        if not math.isfinite(adj):
            rows.append(
                BaselineRow(
                    **base,
                    centre_left_pct=None,
                    expected_left_pct=None,
                    spread_pp=None,
                    residual_pp=None,
                    flag="no_balance",
                    n_baseline_runs=0,
                    explanation="no pace-adjusted GCT balance for this run (no running dynamics, or too "
                    "little clean running): not compared",
                )
            )
            continue
        win = prev[prev["balance_adj"].notna()].tail(window_runs)
        if len(win) < min_runs:
            rows.append(
                BaselineRow(
                    **base,
                    centre_left_pct=None,
                    expected_left_pct=None,
                    spread_pp=None,
                    residual_pp=None,
                    flag="no_baseline",
                    n_baseline_runs=len(win),
                    explanation=f"baseline needs {min_runs} earlier runs with balance; {len(win)} so far",
                )
            )
            continue
        centre, spread, limit = prediction_limit(
            win["balance_adj"].to_numpy(dtype=float),
            BASELINE_METRICS["balance"][2],
            k_spread,
            ses=win["balance_adj_se"].to_numpy(dtype=float),
            se_new=_f(cur["balance_adj_se"]),
        )
        resid = adj - centre
        flag = "normal" if abs(resid) <= limit else ("high" if resid > 0 else "low")
        observed = raw if math.isfinite(raw) else adj
        expected = observed - resid
        exps = _explain(cur, win, resid, centre, ref_speed_m_s)
        at = f" at {label}" if label else ""
        text = (
            f"{observed:.1f} % L{at}; expected {expected:.1f} % at that pace from your baseline; "
            f"residual {resid:+.1f} pp, "
        )
        if flag == "normal":
            text += f"within normal (±{limit:.1f} pp)"
        else:
            text += f"outside normal (±{limit:.1f} pp)"
            # only factors that push in the residual's direction can explain it
            quantified = [e for e in exps if e.contribution_pp is not None and e.contribution_pp * resid > 0][
                :3
            ]
            unq = [e for e in exps if e.contribution_pp is None][:2]
            parts = [f"{e.factor} ({e.contribution_pp:+.1f} pp)" for e in quantified if e.contribution_pp]
            parts += [f"{e.factor} (size not estimable)" for e in unq]
            text += "; likely: " + ", ".join(parts) if parts else "; no known factor explains it"
        rows.append(
            BaselineRow(
                **base,
                centre_left_pct=centre,
                expected_left_pct=expected,
                spread_pp=spread,
                residual_pp=resid,
                flag=flag,
                n_baseline_runs=len(win),
                explanation=text,
                explanations=exps,
                limit_pp=limit,
            )
        )
    return rows


class DatedRun(Protocol):
    """What the load computations need of a run in the catalog (an activity row has it)."""

    @property
    def id(self) -> str: ...

    @property
    def start_time(self) -> pd.Timestamp: ...

    @property
    def distance_m(self) -> float | None: ...


def load_ratios(acts: Sequence[DatedRun]) -> dict[str, tuple[float, float]]:
    """(7-day km, 7-day / (28-day / 4)) before each run's start, from the catalog's runs ``acts``."""
    starts = np.array([a.start_time.value for a in acts], dtype=np.int64)
    dist = np.array([(a.distance_m or 0.0) / 1000.0 for a in acts])
    day = pd.Timedelta(days=1).value
    out: dict[str, tuple[float, float]] = {}
    for a in acts:
        t = a.start_time.value
        w7 = float(dist[(starts < t) & (starts >= t - 7 * day)].sum())
        w28 = float(dist[(starts < t) & (starts >= t - 28 * day)].sum())
        has_history = bool((starts < t - 21 * day).any())
        out[a.id] = (w7, w7 / (w28 / 4.0) if w28 > 0 and has_history else float("nan"))
    return out


def weekly_loads_km(acts: Sequence[DatedRun], run_starts: Mapping[str, pd.Timestamp]) -> dict[str, float]:
    """Running distance (km) of the 7 days before each start of ``run_starts`` (run id -> start), from
    the catalog's runs ``acts``."""
    starts = np.array([a.start_time.value for a in acts], dtype=np.int64)
    dist = np.array([(a.distance_m or 0.0) / 1000.0 for a in acts])
    week = pd.Timedelta(days=7).value
    out: dict[str, float] = {}
    for rid, t in run_starts.items():
        m = (starts < t.value) & (starts >= t.value - week)
        out[rid] = float(dist[m].sum())
    return out


def baseline_record(
    row: Mapping[Any, Any], analysis: RunAnalysis | None, loads: Mapping[str, tuple[float, float]]
) -> dict[str, Any]:
    """The per-run input of :func:`baseline_table` from a run-table row (``run_table``), the run's
    analysis (None when it could not be analysed) and :func:`load_ratios`."""
    rid = str(row["id"])
    ctx: dict[str, Any] = {}
    tc = float("nan")
    if analysis is not None:
        ctx = analysis.context or {}
        m = analysis.models.get("balance")
        # the time balance_adj refers to (minute 10 since issue 13, so no fatigue difference between
        # runs; the run's mean time only for a run without a drift term)
        tc = m.ref_time_h if m is not None else float("nan")
    running = _f(row.get("running_s"))
    hilly = (
        (_f(ctx.get("uphill_s", 0.0)) + _f(ctx.get("downhill_s", 0.0))) / running if running > 0 else np.nan
    )
    l7, ratio = loads.get(rid, (float("nan"), float("nan")))
    return {
        "id": rid,
        "start_time": row["start_time"],
        "speed_m_s": row.get("speed_median_m_s"),
        "balance_raw": row.get("balance_mean_left_pct"),
        "balance_adj": row.get("balance_at_ref_speed_left_pct"),
        "balance_adj_se": row.get("balance_at_ref_speed_se_pp"),
        "slope": row.get("balance_speed_slope_pp_per_m_s"),
        "drift": row.get("balance_drift_pp_per_h"),
        "time_center_h": tc,
        "hilly_share": hilly,
        "turning_share": ctx.get("turning_share"),
        "track_like": ctx.get("track_like"),
        "load_7d_km": l7,
        "load_ratio": ratio,
        "sensor": row.get("sensor"),
        "gct_adj": row.get("gct_at_ref_speed_ms"),
        "gct_raw": row.get("gct_mean_ms"),
        "vo_adj": row.get("vo_at_ref_speed_mm"),
        "vo_raw": row.get("vo_mean_mm"),
    }


def baseline_runs(
    records: Iterable[Mapping[str, Any]],
    ref_speed_m_s: float | None,
    *,
    since: pd.Timestamp | None = None,
    window_runs: int = 20,
    min_runs: int = 5,
    k_spread: float = 2.0,
) -> list[BaselineRow]:
    """:func:`baseline_table` over :func:`baseline_record` rows; only the rows from ``since`` on are
    returned (the baseline uses the runs before ``since`` too)."""
    frame = pd.DataFrame.from_records(list(records))
    if not len(frame):
        return []
    return baseline_table(
        frame, ref_speed_m_s, window_runs=window_runs, min_runs=min_runs, k_spread=k_spread, since=since
    )
