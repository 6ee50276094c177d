"""The load guard: weekly running distance/time, the 10 % rule, the acute:chronic workload ratio.

Weeks run Monday-Sunday on the UTC calendar day of each run's start. Distances are m, durations s
(timer time). ACWR = load of the last 7 days / (load of the last 28 days / 4) ("coupled", rolling)
and the same ratio of exponentially weighted means (EWMA, decay 2/(N+1) with N = 7 and 28 days,
Williams et al. 2017), both on daily distance. Zones after Gabbett (2016): < 0.8 low, 0.8-1.3 sweet
spot, 1.3-1.5 caution, > 1.5 danger. Both tools are heuristics - see :data:`CAVEATS`.

Pure: the caller passes the catalog rows up to today and the per-run asymmetry rows from
:func:`load_since` on (``stridelab.services.training.weekly_load`` gathers both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from stridelab.lazy import lazy_module
from stridelab.training._seam import RunRow, is_run

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "ACWR_ZONES",
    "CAVEATS",
    "TEN_PERCENT",
    "LoadReport",
    "WeekLoad",
    "acwr_zone",
    "load_report",
    "load_since",
]

TEN_PERCENT: Final[float] = 10.0
ACUTE_DAYS: Final[int] = 7
CHRONIC_DAYS: Final[int] = 28
#: (upper bound, zone); the last zone is open-ended
ACWR_ZONES: Final[tuple[tuple[float, str], ...]] = ((0.8, "low"), (1.3, "sweet spot"), (1.5, "caution"))
HIGH_LOAD_ACWR: Final[float] = 1.3
TEN_PERCENT_CAVEAT: Final[str] = (
    "the 10 % rule is a heuristic, not a proven injury shield: a trial in novice runners found no fewer "
    "injuries with it, and large jumps (> 30 %) are the better-supported concern"
)
CAVEATS: Final[tuple[str, ...]] = (
    "The 10 % rule is a heuristic: in a randomised trial of novice runners (Buist et al. 2008) a program "
    "that respected it did not reduce running injuries, and a cohort study (Nielsen et al. 2014) linked "
    "injuries to larger jumps (> 30 %) rather than to > 10 %. Treat a warning as a prompt to check "
    "how you feel.",
    "The acute:chronic workload ratio comes from team-sport data and is debated (e.g. the coupling of "
    "acute and chronic windows, Lolli et al. 2019; Impellizzeri et al. 2020). Its zones are rough guides, "
    "not thresholds of injury.",
    "Load here is running distance and time only; strength work, other sports, intensity and sleep "
    "are not counted.",
)

Zone = Literal["low", "sweet spot", "caution", "danger"]


def acwr_zone(acwr: float | None) -> Zone | None:
    """The zone of a ratio (None for None)."""
    if acwr is None or not np.isfinite(acwr):
        return None
    for upper, zone in ACWR_ZONES:
        if acwr < upper:
            return zone  # type: ignore[return-value]
    return "danger"


@dataclass(frozen=True, slots=True)
class WeekLoad:
    """One Monday-Sunday week. ``acwr`` is the rolling 7:28-day ratio at the week's last day so far."""

    week_start: date
    distance_m: float
    duration_s: float
    n_runs: int
    change_pct: float | None
    duration_change_pct: float | None
    acwr: float | None
    acwr_ewma: float | None
    zone: Zone | None
    partial: bool
    warning: str | None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["week_start"] = self.week_start.isoformat()
        return d


@dataclass(frozen=True, slots=True)
class LoadReport:
    """The weekly rows, next week's recommended maximum, form drift under load, caveats."""

    today: date
    weeks: tuple[WeekLoad, ...]
    recommendation: dict[str, Any] | None
    form_drift: dict[str, Any] | None
    message: str | None = None
    caveats: tuple[str, ...] = field(default=CAVEATS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "weeks": [w.to_dict() for w in self.weeks],
            "recommendation": self.recommendation,
            "form_drift": self.form_drift,
            "message": self.message,
            "caveats": list(self.caveats),
        }


def _pct(new: float, old: float) -> float | None:
    return round(100.0 * (new - old) / old, 1) if old > 0 else None


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _runs_until(rows: Sequence[RunRow], today: date) -> list[RunRow]:
    end = pd.Timestamp(today + timedelta(days=1), tz="UTC")
    return [r for r in rows if is_run(r) and pd.Timestamp(r.start_time) < end]


def load_since(rows: Sequence[RunRow], today: date) -> date | None:
    """First day whose runs' asymmetry :func:`load_report` needs (None without runs up to ``today``)."""
    runs = _runs_until(rows, today)
    if not runs:
        return None
    return _monday(min(pd.Timestamp(r.start_time).tz_convert("UTC").date() for r in runs))


def load_report(rows: Sequence[RunRow], today: date, asymmetry: pd.DataFrame | None = None) -> LoadReport:
    """The load guard up to ``today`` (inclusive; runs after it are ignored).

    ``rows`` are catalog rows (non-runs are skipped); ``asymmetry`` the per-run asymmetry rows
    (:data:`~stridelab.training._seam.COLUMNS`) from :func:`load_since` to ``today``, for the form drift.
    """
    rows = _runs_until(rows, today)
    if not rows:
        return LoadReport(
            today,
            (),
            None,
            None,
            "No runs imported yet: import runs (e.g. `stridelab import FILES`) to get weekly load, the 10 % "
            "check and the ACWR (which needs 4 weeks of runs). Plans and balance tests work without runs.",
        )
    days = [pd.Timestamp(r.start_time).tz_convert("UTC").date() for r in rows]
    first = min(days)
    idx = pd.date_range(_monday(first), today, freq="D")
    daily_m = np.zeros(len(idx))
    daily_s = np.zeros(len(idx))
    daily_n = np.zeros(len(idx), dtype="int64")
    for r, d in zip(rows, days, strict=True):
        i = (d - _monday(first)).days
        daily_m[i] += float(r.distance_m or 0.0)
        daily_s[i] += float(r.duration_s or 0.0)
        daily_n[i] += 1
    dist = pd.Series(daily_m, index=idx)
    dur = pd.Series(daily_s, index=idx)
    count = pd.Series(daily_n, index=idx)
    acute = dist.rolling(ACUTE_DAYS, min_periods=ACUTE_DAYS).sum()
    chronic = dist.rolling(CHRONIC_DAYS, min_periods=CHRONIC_DAYS).sum() / (CHRONIC_DAYS / ACUTE_DAYS)
    from_first = dist[pd.Timestamp(first) :]
    ew_a = from_first.ewm(alpha=2.0 / (ACUTE_DAYS + 1), adjust=True).mean()
    ew_c = from_first.ewm(alpha=2.0 / (CHRONIC_DAYS + 1), adjust=True).mean()
    weeks: list[WeekLoad] = []
    prev: tuple[float, float] | None = None
    zero_run = 0
    for ws in pd.date_range(_monday(first), _monday(today), freq="7D"):
        wend = min(ws + pd.Timedelta(days=6), pd.Timestamp(today))
        partial = ws + pd.Timedelta(days=6) > pd.Timestamp(today)
        d_m = float(dist[ws:wend].sum())
        t_s = float(dur[ws:wend].sum())
        n = int(count[ws:wend].sum())
        history_days = (wend.date() - first).days + 1
        acwr = acwr_e = None
        if history_days >= CHRONIC_DAYS and chronic[wend] > 0:
            acwr = round(float(acute[wend] / chronic[wend]), 2)
        if history_days >= CHRONIC_DAYS and ew_c[wend] > 0:
            acwr_e = round(float(ew_a[wend] / ew_c[wend]), 2)
        change = _pct(d_m, prev[0]) if prev else None
        dchange = _pct(t_s, prev[1]) if prev else None
        zone = acwr_zone(acwr)
        warns: list[str] = []
        if change is not None and change > TEN_PERCENT:
            warns.append(f"distance {change:+.0f} % on the previous week, above 10 % - {TEN_PERCENT_CAVEAT}")
        if prev is not None and prev[0] == 0 and d_m > 0 and zero_run:
            warns.append(
                f"first running after {zero_run} week(s) without runs: build back gradually, do not jump to "
                "your old volume"
            )
        for ratio, kind in ((acwr, "rolling"), (acwr_e, "EWMA")):
            z = acwr_zone(ratio)
            if z in ("caution", "danger"):
                warns.append(
                    f"ACWR {ratio:.2f} ({kind} 7:28 d) in the {z} zone (> {1.5 if z == 'danger' else 1.3})"
                )
        warning = None
        if warns:
            warning = ("So far this week: " if partial else "") + "; ".join(warns) + "."
            warning = warning[0].upper() + warning[1:]
        weeks.append(
            WeekLoad(
                ws.date(),
                round(d_m, 1),
                round(t_s, 1),
                n,
                change,
                dchange,
                acwr,
                acwr_e,
                zone,
                partial,
                warning,
            )
        )
        zero_run = zero_run + 1 if d_m == 0 else 0
        prev = (d_m, t_s)
    rec = _recommendation(weeks, today)
    drift = _form_drift(asymmetry, weeks)
    return LoadReport(today, tuple(weeks), rec, drift)


def _recommendation(weeks: list[WeekLoad], today: date) -> dict[str, Any] | None:
    complete = [w for w in weeks if not w.partial]
    if not complete:
        return {
            "week_start": (_monday(today) + timedelta(days=7)).isoformat(),
            "max_distance_m": None,
            "max_duration_s": None,
            "basis": "Less than one complete week of runs: no recommendation yet; keep runs short and easy.",
        }
    last = complete[-1]
    window = complete[-4:]
    out: dict[str, Any] = {"week_start": (last.week_start + timedelta(days=7)).isoformat()}
    if any(w.partial for w in weeks):
        out["week_start"] = (_monday(today) + timedelta(days=7)).isoformat()
    for key, attr in (("max_distance_m", "distance_m"), ("max_duration_s", "duration_s")):
        latest = float(getattr(last, attr))
        chronic = float(np.mean([getattr(w, attr) for w in window]))
        if chronic <= 0 and latest <= 0:
            out[key] = None
            continue
        out[key] = round(min(1.10 * max(latest, chronic), 1.3 * chronic), 1)
    basis = (
        "min(1.10 x the larger of last complete week and the mean of the last "
        f"{len(window)} complete week(s), "
        "1.3 x that mean): the 10 % heuristic, capped so the next week stays near the ACWR sweet spot"
    )
    if len(window) < 4:
        basis += f"; only {len(window)} complete week(s) of history, so treat it with care"
    if out["max_distance_m"] is None:
        basis = "No running in the last 4 complete weeks: restart with short easy runs and build from there."
    out["basis"] = basis
    return out


def _form_drift(asymmetry: pd.DataFrame | None, weeks: list[WeekLoad]) -> dict[str, Any] | None:
    """GCT balance deviation |left % - 50| and GCT in high-load weeks vs the other weeks."""
    if asymmetry is None:
        return None
    runs = asymmetry.dropna(subset=["balance_left_pct"])
    if runs.empty:
        return None
    runs = runs.assign(
        week_start=[_monday(d) for d in runs["day"]], dev=(runs["balance_left_pct"] - 50.0).abs()
    )
    high = {
        w.week_start
        for w in weeks
        if (w.acwr is not None and w.acwr > HIGH_LOAD_ACWR)
        or (w.change_pct is not None and w.change_pct > TEN_PERCENT)
    }
    in_high = runs["week_start"].isin(high)
    out: dict[str, Any] = {
        "source": " + ".join(sorted(set(runs["source"]))),
        "high_load_weeks": sorted(d.isoformat() for d in high),
        "runs_high": int(in_high.sum()),
        "runs_other": int((~in_high).sum()),
        "balance_dev_high_pp": None,
        "balance_dev_other_pp": None,
        "drift_pp": None,
        "gct_high_s": None,
        "gct_other_s": None,
        "drift_gct_s": None,
    }
    if not in_high.any() or in_high.all():
        out["verdict"] = "Not enough contrast: need runs in both high-load and other weeks."
        return out
    hi, lo = runs[in_high], runs[~in_high]
    out["balance_dev_high_pp"] = round(float(hi["dev"].mean()), 2)
    out["balance_dev_other_pp"] = round(float(lo["dev"].mean()), 2)
    out["drift_pp"] = round(out["balance_dev_high_pp"] - out["balance_dev_other_pp"], 2)
    if hi["gct_s"].notna().any() and lo["gct_s"].notna().any():
        out["gct_high_s"] = round(float(hi["gct_s"].mean()), 4)
        out["gct_other_s"] = round(float(lo["gct_s"].mean()), 4)
        out["drift_gct_s"] = round(out["gct_high_s"] - out["gct_other_s"], 4)
    if out["drift_pp"] >= 0.5:
        verdict = f"GCT balance drifted {out['drift_pp']:.1f} pp further from 50 % in high-load weeks."
    elif out["drift_pp"] <= -0.5:
        verdict = f"GCT balance was {-out['drift_pp']:.1f} pp closer to 50 % in high-load weeks."
    else:
        verdict = "No clear drift of GCT balance in high-load weeks (< 0.5 pp)."
    if "raw" in out["source"]:
        verdict += " Based on raw run means, not pace-adjusted: faster weeks shorten GCT by themselves."
    out["verdict"] = verdict
    return out
