"""Analysis of the runs in a store: one run (cached per activity and analysis version), the per-run
table and the trend across runs, the athlete's reference speed, the cache itself.

The pure cores (:mod:`stridelab.analysis`) compute; :mod:`stridelab.store.cache` keeps the results.
The result types the edges need are re-exported here, so an edge never imports the cores::

    from stridelab.services import analysis
    a = analysis.analyze_activity(store, "me", "3fa2")          # -> RunAnalysis (SI)
    table, ref = analysis.run_table(store, "me", since=...)      # one row per run
    trend = analysis.trend_analysis(table, ref)                  # rolling medians, trends, weeks, months
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from stridelab.analysis import (
    ANALYSIS_VERSION,
    BALANCE_ZONE_NAMES,
    GAUGE_ZONE_NAMES,
    METRICS,
    MODELLED_METRICS,
    AnalysisConfig,
    Estimate,
    MetricSpec,
    MonthComparison,
    RunAnalysis,
    RunFrame,
    TrendAnalysis,
    TrendLine,
    analyze_run,
    balance_zone_index,
    is_run,
    mark_not_a_run,
    prediction_limit,
    reference_speed,
    running_part,
    trend_analysis,
)
from stridelab.jsonsafe import to_jsonable
from stridelab.lazy import lazy_module
from stridelab.present.analysis import run_analysis_json, run_row, trend_json
from stridelab.store import ActivityRow, Store, StoreError
from stridelab.store import cache as _cache
from stridelab.store import streams as _streams
from stridelab.store import tags as _tags

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

#: ``progress(done, total)`` of the runs being analysed
ProgressFn = Callable[[int, int], None]
T = TypeVar("T")

__all__ = [
    "ANALYSIS_VERSION",
    "BALANCE_ZONE_NAMES",
    "DRIFT_CLOCKS",
    "GAUGE_ZONE_NAMES",
    "METRICS",
    "MODELLED_METRICS",
    "RUN_TYPES",
    "AnalysisConfig",
    "Estimate",
    "MetricSpec",
    "MonthComparison",
    "ProgressFn",
    "RunAnalysis",
    "RunFrame",
    "TrendAnalysis",
    "TrendLine",
    "analysis_config",
    "analyze_activity",
    "athlete_ref_speed",
    "balance_zone_index",
    "cached_analyses",
    "cached_analysis",
    "clear_cache",
    "derived",
    "ensure_schema",
    "filter_runs",
    "is_run",
    "load_run",
    "parse_distance_range",
    "positions",
    "prediction_limit",
    "run_analyses",
    "run_report",
    "run_row",
    "run_table",
    "table_of_analyses",
    "tagged_runs",
    "trend",
    "trend_analysis",
    "trend_report",
    "uncached_runs",
    "with_dynamics",
]

#: the summary keys :func:`stridelab.analysis.reference_speed` (and its ``is_run``) reads: the catalog
#: read behind :func:`athlete_ref_speed` takes only these (tests compare with the whole summaries)
REFERENCE_SPEED_KEYS: tuple[str, ...] = ("speed_m_s_mean", "has_running_dynamics")

#: the clocks the fatigue drift can be measured on (``AnalysisConfig.drift_clock``)
DRIFT_CLOCKS: tuple[str, ...] = ("elapsed", "timer", "running")


def analysis_config(drift_clock: str = "elapsed") -> AnalysisConfig:
    """The default analysis configuration with another drift clock (one of :data:`DRIFT_CLOCKS`)."""
    if drift_clock not in DRIFT_CLOCKS:
        raise ValueError(f"unknown drift clock {drift_clock!r}")
    return replace(AnalysisConfig(), drift_clock=drift_clock)


def ensure_schema(store: Store) -> None:
    """Create or upgrade the analysis cache table (a write)."""
    _cache.ensure_cache_schema(store)


def load_run(store: Store, athlete: str, activity_id: str) -> tuple[pd.DataFrame, pd.DataFrame, ActivityRow]:
    """Records (only the running sessions of a multisport file), laps and catalog row of one activity."""
    row = store.activity(athlete, activity_id)
    records = store.records(athlete, row.id)
    laps = store.laps(athlete, row.id)
    records, laps = running_part(records, laps, _streams.session_sports(store, athlete, row.id))
    return records, laps, row


def cached_analyses(store: Store, athlete: str) -> dict[str, RunAnalysis]:
    """Every valid cached analysis of ``athlete`` by activity id, in one read -- a pure read."""
    return _cache.read_cached_analyses(store, athlete)


def cached_analysis(store: Store, athlete: str, activity_id: str) -> RunAnalysis | None:
    """The cached analysis of the current version (full id), or None -- a pure read, never a write."""
    return _cache.read_cached_analysis(store, athlete, activity_id)


def analyze_activity(
    store: Store,
    athlete: str,
    activity_id: str,
    *,
    use_cache: bool = True,
    keep_frame: bool = False,
    config: AnalysisConfig | None = None,
) -> RunAnalysis:
    """The :class:`RunAnalysis` of a stored activity (id or unique prefix).

    With ``use_cache`` (and the default config) a cached result of the current analysis version is
    returned when present, else the run is analysed and cached. ``keep_frame=True`` (charts) always
    analyses, because the per-sample arrays are not cached.
    """
    full_id = store.resolve_id(athlete, activity_id)
    default_config = config is None or config == AnalysisConfig()
    cacheable = use_cache and default_config
    if cacheable and not keep_frame:
        _cache.ensure_cache_schema(store)
        cached = _cache.read_cached_analysis(store, athlete, full_id)
        if cached is not None:
            return cached
    records, laps, act = load_run(store, athlete, full_id)
    devices = act.summary.get("devices") or []
    analysis = analyze_run(records, laps, devices=devices, config=config, keep_frame=keep_frame)
    mark_not_a_run(analysis, act)
    if cacheable:
        _cache.write_cached_analysis(store, athlete, full_id, analysis)
    return analysis


def clear_cache(store: Store, athlete: str | None = None) -> int:
    """Drop cached analyses (of one athlete, or all). Returns the number of rows removed."""
    return _cache.clear_cached_analyses(store, athlete)


def athlete_ref_speed(store: Store, athlete: str) -> float | None:
    """The athlete's median easy-run speed (m/s), from the catalog of all her runs (see
    :func:`stridelab.analysis.reference_speed`). None when she has no run with a speed. Cheap: no
    records are read."""
    return reference_speed(store.list_activities(athlete, summary_keys=REFERENCE_SPEED_KEYS))


def run_analyses(
    store: Store,
    athlete: str = "me",
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    use_cache: bool = True,
    progress: ProgressFn | None = None,
) -> list[tuple[ActivityRow, RunAnalysis | None, str | None]]:
    """``(catalog row, analysis, error)`` of every run of ``athlete`` in [``since``, ``until``), in
    start-time order: the valid cached analyses in one read, the others analysed (and cached) one by
    one, calling ``progress(done, total)`` after each of those. A run whose stream cannot be read has
    no analysis and the reason as its error."""
    acts = [a for a in store.list_activities(athlete, since=since, until=until) if is_run(a)]
    cached = _cache.read_cached_analyses(store, athlete, since=since, until=until) if use_cache else {}
    todo = [a for a in acts if a.id not in cached]
    out: list[tuple[ActivityRow, RunAnalysis | None, str | None]] = []
    done = 0
    for act in acts:
        analysis = cached.get(act.id)
        if analysis is not None:
            out.append((act, analysis, None))
            continue
        try:
            out.append((act, analyze_activity(store, athlete, act.id, use_cache=use_cache), None))
        except (StoreError, OSError, ValueError) as exc:
            out.append((act, None, str(exc)))
        done += 1
        if progress is not None:
            progress(done, len(todo))
    return out


def uncached_runs(
    store: Store,
    athlete: str = "me",
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
) -> int:
    """How many runs of the period have no valid cached analysis (what :func:`run_analyses` will
    compute): lets an edge decide to show a progress bar before it starts."""
    acts = [a for a in store.list_activities(athlete, since=since, until=until) if is_run(a)]
    cached = _cache.read_cached_analyses(store, athlete, since=since, until=until)
    return sum(1 for a in acts if a.id not in cached)


def table_of_analyses(
    analyses: list[tuple[ActivityRow, RunAnalysis | None, str | None]], ref: float | None
) -> pd.DataFrame:
    """One row per run (:func:`run_row`, or ``analysis_error`` and no numbers), by start time."""
    rows: list[dict[str, object]] = []
    for act, analysis, error in analyses:
        if analysis is None:
            rows.append({"id": act.id, "start_time": act.start_time, "analysis_error": error, "flags": []})
        else:
            rows.append(run_row(act.id, act.start_time, analysis, ref))
    table = pd.DataFrame.from_records(rows)
    if len(table):
        table = table.sort_values("start_time", kind="stable").reset_index(drop=True)
    return table


def run_table(
    store: Store,
    athlete: str = "me",
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    ref_speed_m_s: float | None = None,
    use_cache: bool = True,
    progress: ProgressFn | None = None,
) -> tuple[pd.DataFrame, float | None]:
    """One row per run of ``athlete`` (sorted by start time) and the reference speed used.

    ``ref_speed_m_s`` defaults to :func:`athlete_ref_speed` (the same for every run, so the adjusted
    values are comparable). Runs whose stream cannot be read get ``analysis_error`` and no numbers.
    ``progress(done, total)`` follows the runs that had to be analysed (see :func:`run_analyses`).
    """
    ref = ref_speed_m_s if ref_speed_m_s is not None else athlete_ref_speed(store, athlete)
    analyses = run_analyses(store, athlete, since=since, until=until, use_cache=use_cache, progress=progress)
    return table_of_analyses(analyses, ref), ref


def trend(
    store: Store,
    athlete: str = "me",
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    ref_speed_m_s: float | None = None,
    use_cache: bool = True,
    window_runs: int = 5,
) -> TrendAnalysis:
    """:func:`trend_analysis` of :func:`run_table` (the runs of ``athlete`` in the period)."""
    table, ref = run_table(
        store, athlete, since=since, until=until, ref_speed_m_s=ref_speed_m_s, use_cache=use_cache
    )
    return trend_analysis(table, ref, window_runs=window_runs)


def derived(
    store: Store,
    athlete: str,
    kind: str,
    params: Mapping[str, object],
    compute: Callable[[], T],
    *,
    use_cache: bool = True,
    encode: Callable[[T], object] = lambda x: x,
    decode: Callable[[Any], T] = lambda x: x,
) -> T:
    """A result derived from many runs (``kind`` + ``params`` name it), read from the store while the
    runs, their analyses and the analysis version are unchanged (the store's ``derived_fingerprint``),
    else computed and stored. ``encode``/``decode`` map it to and from JSON-safe data; ``compute`` may
    analyse runs (the fingerprint is taken after it, so those first analyses do not void the result)."""
    key = json.dumps(to_jsonable(params), sort_keys=True)
    if use_cache:
        hit = _cache.read_derived(store, athlete, kind, key)
        if hit is not None and hit[0] == _cache.derived_fingerprint(store, athlete):
            return decode(hit[1])
    result = compute()
    if use_cache:
        _cache.write_derived(
            store, athlete, kind, key, _cache.derived_fingerprint(store, athlete), encode(result)
        )
    return result


def run_report(
    store: Store,
    athlete: str,
    activity_id: str,
    *,
    ref_speed_m_s: float | None = None,
    drift_clock: str = "elapsed",
    use_cache: bool = True,
) -> dict[str, Any]:
    """What ``stridelab analyze`` prints of one stored run (full id): ``ref_speed_source`` then
    :func:`~stridelab.present.analysis.run_analysis_json` at ``ref_speed_m_s``, by default the
    athlete's easy-run median (:func:`athlete_ref_speed`; ``"option"`` when given,
    ``"athlete_easy_run_median"``, else the run's own median: ``"run_median"``), JSON-safe.

    Kept in the store (:func:`derived`, one row per run, reference speed and drift clock) while the
    runs, their analyses and the analysis version are unchanged: a warm call reads one row instead
    of the catalog (for the reference speed) and the cached fit (numpy arrays). ``use_cache=False``
    recomputes the run and keeps nothing. Raises ``StoreError`` / ``KeyError`` for an unknown run,
    ``ValueError`` for an unknown clock."""
    config = analysis_config(drift_clock)

    def compute() -> dict[str, Any]:
        analysis = analyze_activity(store, athlete, activity_id, use_cache=use_cache, config=config)
        ref, source = ref_speed_m_s, "option"
        if ref is None:
            ref, source = athlete_ref_speed(store, athlete), "athlete_easy_run_median"
        if ref is None:
            source = "run_median"
        out: dict[str, Any] = to_jsonable({"ref_speed_source": source, **run_analysis_json(analysis, ref)})
        return out

    params = {"run": activity_id, "ref": ref_speed_m_s, "clock": drift_clock}
    return derived(store, athlete, "run_report", params, compute, use_cache=use_cache)


def trend_report(
    store: Store,
    athlete: str = "me",
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    ref_speed_m_s: float | None = None,
    window_runs: int = 5,
    use_cache: bool = True,
    progress: ProgressFn | None = None,
    all_runs: bool = False,
    run_type: str | None = None,
    distance_m: tuple[float | None, float | None] | None = None,
    tag: str | None = None,
) -> dict[str, Any]:
    """:func:`~stridelab.present.analysis.trend_json` of the trend of ``athlete``'s runs in the period
    (what ``stridelab trend`` prints), kept in the store until a run, an analysis or the analysis
    version changes: a warm call reads one row instead of every run's analysis. Only runs with
    running dynamics unless ``all_runs`` (``hidden``: how many were left out), filtered by
    ``run_type`` (:data:`RUN_TYPES`), ``distance_m`` (min, max) and ``tag`` (``KEY`` or ``KEY=VALUE``:
    the runs with such a tag on the run or on any of its laps); ValueError for an unknown type."""
    tagged = tagged_runs(store, athlete, tag) if tag is not None else None

    def compute() -> dict[str, Any]:
        table, ref = run_table(
            store,
            athlete,
            since=since,
            until=until,
            ref_speed_m_s=ref_speed_m_s,
            use_cache=use_cache,
            progress=progress,
        )
        hidden = 0
        if not all_runs:
            table, hidden = with_dynamics(table)
        if run_type is not None or distance_m is not None:
            table = filter_runs(store, athlete, table, run_type=run_type, distance_m=distance_m)
        if tagged is not None and len(table):
            table = table[table["id"].astype(str).isin(tagged).to_numpy()].reset_index(drop=True)
        payload: dict[str, Any] = to_jsonable(trend_json(trend_analysis(table, ref, window_runs=window_runs)))
        payload["hidden"] = hidden
        return payload

    params = {
        "since": since,
        "until": until,
        "ref": ref_speed_m_s,
        "window": window_runs,
        "all": all_runs,
        "type": run_type,
        "distance": list(distance_m) if distance_m else None,
        # the tagged runs themselves: a tag added or removed makes another key (tags are not in the
        # store's derived fingerprint)
        "tagged": sorted(tagged) if tagged is not None else None,
    }
    return derived(store, athlete, "trend", params, compute, use_cache=use_cache)


def tagged_runs(store: Store, athlete: str, tag: str) -> set[str]:
    """The ids of the runs with tag ``KEY`` (any value) or ``KEY=VALUE`` on the run or on one of its
    laps or ranges (``trend --tag``). ValueError naming ``--tag`` for an empty key."""
    key, _, value = tag.partition("=")
    if not key.strip():
        raise ValueError(f"Invalid value for '--tag': expected KEY or KEY=VALUE, got {tag!r}.")
    found = _tags.list_tags(store, athlete, key=key.strip(), value=value.strip() if value else None)
    return {t.activity_id for t in found}


def positions(store: Store, athlete: str, activity_id: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Latitude and longitude (deg) of a run's records, None without GPS."""
    return _streams.positions(store, athlete, activity_id)


def with_dynamics(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The rows of a :func:`run_table` that have GCT balance (running dynamics), and how many were
    left out (a trend and its axes are made of the runs that can be plotted)."""
    if not len(table):
        return table, 0
    if "balance_mean_left_pct" not in table.columns:
        return table.iloc[0:0].reset_index(drop=True), len(table)
    keep = pd.to_numeric(table["balance_mean_left_pct"], errors="coerce").notna().to_numpy()
    return table[keep].reset_index(drop=True), int((~keep).sum())


#: ``--type`` of a trend: the analysis flags a run must have (and must not have)
RUN_TYPES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "steady": (frozenset({"steady"}), frozenset()),
    "easy": (frozenset({"steady"}), frozenset({"uphill", "downhill"})),
    "intervals": (frozenset({"intervals"}), frozenset()),
    "hills": (frozenset(), frozenset()),  # uphill or downhill, see filter_runs
    "flat": (frozenset(), frozenset({"uphill", "downhill"})),
}


def parse_distance_range(text: str) -> tuple[float | None, float | None]:
    """``5k-15k``, ``10k-``, ``-21.1k``, ``5000-10000`` (m) -> (min_m, max_m); ValueError naming
    ``--distance`` for anything else."""

    def one(part: str) -> float | None:
        part = part.strip().lower()
        if not part:
            return None
        factor = 1000.0 if part.endswith(("k", "km")) else 1.0
        number = part.removesuffix("km").removesuffix("k").removesuffix("m")
        value = float(number) * factor
        if not value >= 0 or value != value:
            raise ValueError(part)
        return value

    try:
        lo_text, hi_text = text.split("-", 1)
        lo, hi = one(lo_text), one(hi_text)
    except ValueError:
        raise ValueError(
            f"Invalid value for '--distance': expected MIN-MAX such as 5k-15k, 10k- or -21.1k, got {text!r}."
        ) from None
    if lo is not None and hi is not None and hi < lo:
        raise ValueError(f"Invalid value for '--distance': the maximum is below the minimum in {text!r}.")
    return lo, hi


def filter_runs(
    store: Store,
    athlete: str,
    table: pd.DataFrame,
    *,
    run_type: str | None = None,
    distance_m: tuple[float | None, float | None] | None = None,
) -> pd.DataFrame:
    """The rows of a :func:`run_table` of one type (:data:`RUN_TYPES`, from the analysis flags) and
    within a distance range (the catalog's distance). ValueError naming ``--type`` for an unknown type."""
    if not len(table):
        return table
    keep = pd.Series(True, index=table.index)
    if run_type is not None:
        if run_type not in RUN_TYPES:
            raise ValueError(
                f"Invalid value for '--type'. Allowed values are {', '.join(map(repr, RUN_TYPES))}, "
                f"but got {run_type!r}."
            )
        need, never = RUN_TYPES[run_type]
        flags = (
            table["flags"] if "flags" in table.columns else pd.Series([[]] * len(table), index=table.index)
        )
        sets = flags.apply(lambda f: set(f) if isinstance(f, list | tuple) else set())
        keep &= sets.apply(lambda f: need <= f and not (never & f))
        if run_type == "hills":
            keep &= sets.apply(lambda f: bool({"uphill", "downhill"} & f))
    if distance_m is not None:
        lo, hi = distance_m
        dist = {a.id: a.distance_m for a in store.list_activities(athlete)}
        d = table["id"].map(lambda i: dist.get(str(i)))
        d = pd.to_numeric(d, errors="coerce")
        if lo is not None:
            keep &= d >= lo
        if hi is not None:
            keep &= d <= hi
    return table[keep.to_numpy()].reset_index(drop=True)
