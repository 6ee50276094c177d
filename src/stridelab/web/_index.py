"""The runs index: what the runs list, the trends and the load guard read, without per-request analyses.

Two layers, both in memory and rebuilt incrementally:

* the **catalog snapshot** (one :meth:`Store.list_activities` call) -- reloaded only when the
  catalog's fingerprint (number of activities, latest import instant) changes, e.g. after a CLI import
  in another process; a request costs one indexed ``SELECT count(*), max(...)``.
* the **analysed rows** (:func:`stridelab.services.analysis.run_row` of each run's cached analysis
  at the athlete's reference speed) -- filled by small background jobs on the writer thread, newest
  runs first; a run not analysed yet shows its catalog numbers and "analysing".

Thousands of runs: a list page filters and slices ~2,000 small records in Python (about a millisecond)
and never opens a record stream.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import PurePath
from typing import Any, Final

import numpy as np
import pandas as pd

from stridelab.jsonsafe import dumps
from stridelab.present.format import finite_or_none, is_finite
from stridelab.services import Store
from stridelab.services import runs as runs_service
from stridelab.services.analysis import (
    BALANCE_ZONE_NAMES,
    RunAnalysis,
    TrendAnalysis,
    analyze_activity,
    athlete_ref_speed,
    balance_zone_index,
    cached_analyses,
    is_run,
    run_row,
    trend_analysis,
)
from stridelab.services.runs import ActivityRow
from stridelab.web._writer import PRIORITY_BACKGROUND, Writer

__all__ = ["RunEntry", "RunIndex", "RunQuery"]

_log = logging.getLogger("stridelab.web")
#: wall-clock budget of one background analysis job (then it yields to queued user writes)
_JOB_BUDGET_S: Final[float] = 0.05
SORT_KEYS: Final[tuple[str, ...]] = ("date", "distance", "pace", "balance", "adjusted")


@dataclass(frozen=True, slots=True)
class RunEntry:
    """One activity as the dashboard lists it (catalog facts + the cached analysis, when ready)."""

    id: str
    start_time: pd.Timestamp
    sport: str | None
    is_run: bool
    distance_m: float | None
    duration_s: float | None
    speed_m_s: float | None
    balance_mean_left_pct: float | None
    source_name: str | None
    has_running_dynamics: bool
    day: date | None = None  # UTC calendar day of the start
    search: str = ""  # lower-case text the search box matches (id, date, sport, file, flags)
    balance_zone: str | None = None  # Garmin zone name of the mean balance (green, orange_left...)
    analysed: bool = False
    adjusted_left_pct: float | None = None
    adjusted_zone: str | None = None
    adjusted_ci: tuple[float, float] | None = None
    drift_pp_per_h: float | None = None
    flags: tuple[str, ...] = ()
    analysis_error: str | None = None
    row: dict[str, Any] | None = field(default=None, repr=False)
    utc_offset_s: int | None = None  # the run's UTC offset from its file; None: the machine's zone

    @property
    def pace_s_per_km(self) -> float | None:
        return 1000.0 / self.speed_m_s if self.speed_m_s and self.speed_m_s > 0.3 else None

    def to_json(self) -> dict[str, Any]:
        """The ``/api/runs`` item (presentation units named in the keys; null = unknown)."""
        return {
            "id": self.id,
            "start_time": self.start_time.isoformat(),
            "utc_offset_s": self.utc_offset_s,
            "sport": self.sport,
            "distance_m": finite_or_none(self.distance_m),
            "duration_s": finite_or_none(self.duration_s),
            "speed_m_s": finite_or_none(self.speed_m_s),
            "pace_s_per_km": finite_or_none(self.pace_s_per_km),
            "balance_mean_left_pct": finite_or_none(self.balance_mean_left_pct),
            "balance_zone": self.balance_zone,
            "balance_at_ref_speed_left_pct": finite_or_none(self.adjusted_left_pct),
            "balance_at_ref_speed_ci_left_pct": list(self.adjusted_ci) if self.adjusted_ci else None,
            "balance_drift_pp_per_h": finite_or_none(self.drift_pp_per_h),
            "flags": list(self.flags),
            "analysed": self.analysed,
            "analysis_error": self.analysis_error,
            "source_name": self.source_name,
        }


def zone_name(left_pct: float | None) -> str | None:
    """The balance zone name of a left share (%), None for None/NaN."""
    return zone_names([left_pct])[0]


def zone_names(values: Iterable[float | None]) -> list[str | None]:
    """Zone names of many left shares at once (one vectorised classification)."""
    arr = np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    if not arr.size:
        return []
    idx = balance_zone_index(arr)
    return [BALANCE_ZONE_NAMES[int(i)] if i >= 0 else None for i in idx]


@dataclass(frozen=True, slots=True)
class RunQuery:
    """Filters of the runs list. Dates are inclusive calendar days (UTC)."""

    q: str = ""
    since: date | None = None
    until: date | None = None
    zone: str | None = None  # a balance zone name, or "left"/"right" (orange or red on that side)
    flag: str | None = None
    tag: str | None = None  # a tag label or its start: "cue", "cue=push-behind"
    runs_only: bool = True
    sort: str = "date"
    descending: bool = True

    @property
    def needs_tags(self) -> bool:
        """True when matching reads the runs' tags (a tag filter or a search)."""
        return bool(self.tag or self.q)

    def matches(self, e: RunEntry, tags: dict[str, list[str]] | None = None) -> bool:
        """``tags``: labels per run id (see :func:`stridelab.services.runs.run_tags`); the search and
        the tag filter look at them."""
        labels = (tags or {}).get(e.id, [])
        if self.runs_only and not e.is_run:
            return False
        day = e.day
        if self.since and (day is None or day < self.since):
            return False
        if self.until and (day is None or day > self.until):
            return False
        if self.zone:
            z = e.balance_zone
            if self.zone in ("left", "right"):
                if z is None or not z.endswith(self.zone):
                    return False
            elif z != self.zone:
                return False
        if self.flag and self.flag not in e.flags:
            return False
        if self.tag and not any(
            label == self.tag or label.startswith(self.tag + "=") or label.startswith(self.tag + "@")
            for label in labels
        ):
            return False
        if self.q:
            needle = self.q.lower()
            hay = " ".join(
                (
                    e.id,
                    e.sport or "",
                    e.source_name or "",
                    " ".join(e.flags),
                    " ".join(labels),
                    e.start_time.strftime("%Y-%m-%d"),
                )
            ).lower()
            if not all(part in hay for part in needle.split()):
                return False
        return True

    def sort_key(self) -> Callable[[RunEntry], Any]:
        def value(e: RunEntry) -> Any:
            if self.sort == "distance":
                return e.distance_m
            if self.sort == "pace":
                return e.pace_s_per_km
            if self.sort == "balance":
                return e.balance_mean_left_pct
            if self.sort == "adjusted":
                return e.adjusted_left_pct
            return e.start_time.value

        def key(e: RunEntry) -> tuple[int, Any, int]:
            v = value(e)
            missing = not is_finite(v)
            # missing values last in both directions
            return (1 if missing else 0, 0 if missing else (-v if self.descending else v), 0)

        return key


def _entry(row: ActivityRow) -> RunEntry:
    s = row.summary
    dist = row.distance_m
    dur = row.duration_s
    speed = s.get("speed_m_s_mean")
    if dist and dur and dur > 0:
        speed = dist / dur
    bal = s.get("stance_time_balance_left_pct_mean")
    start = pd.Timestamp(row.start_time).tz_convert("UTC")
    source = PurePath(row.source_path).name if row.source_path else None
    return RunEntry(
        id=row.id,
        day=start.date(),
        search=" ".join((row.id, start.strftime("%Y-%m-%d %H:%M"), row.sport or "", source or "")).lower(),
        start_time=start,
        sport=row.sport,
        is_run=is_run(row),
        distance_m=dist,
        duration_s=dur,
        speed_m_s=float(speed) if isinstance(speed, int | float) else None,
        balance_mean_left_pct=float(bal) if isinstance(bal, int | float) else None,
        source_name=source,
        has_running_dynamics=bool(s.get("has_running_dynamics")),
        utc_offset_s=row.utc_offset_s,
    )


def _with_row(e: RunEntry, row: dict[str, Any] | None, error: str | None = None) -> RunEntry:
    if row is None:
        return replace(e, analysed=True, analysis_error=error)
    lo = finite_or_none(row.get("balance_at_ref_speed_ci_low"))
    hi = finite_or_none(row.get("balance_at_ref_speed_ci_high"))
    return replace(
        e,
        analysed=True,
        adjusted_left_pct=finite_or_none(row.get("balance_at_ref_speed_left_pct")),
        adjusted_ci=(lo, hi) if lo is not None and hi is not None else None,
        drift_pp_per_h=finite_or_none(row.get("balance_drift_pp_per_h")),
        flags=tuple(row.get("flags") or ()),
        search=e.search + " " + " ".join(row.get("flags") or ()),
        row=row,
    )


class RunIndex:
    """The in-memory index of one athlete's activities (thread-safe; see the module docstring)."""

    def __init__(self, store: Store, athlete: str, writer: Writer, *, background: bool = True) -> None:
        self.store = store
        self.athlete = athlete
        self.writer = writer
        self.background = background
        self._lock = threading.Lock()
        self._fingerprint: tuple[Any, ...] | None = None
        self._entries: tuple[RunEntry, ...] = ()  # newest first
        self._rows: dict[str, tuple[float | None, dict[str, Any] | None, str | None]] = {}
        self._ref: float | None = None
        self._version = 0
        self._rows_version = 0
        self._merged_cache: tuple[Any, tuple[RunEntry, ...], dict[str, RunEntry]] | None = None
        self._json_cache: tuple[Any, dict[str, bytes]] = (None, {})
        self._job_queued = False
        self._prefetched: dict[str, RunAnalysis] | None = None
        self._trend: tuple[tuple[Any, ...], TrendAnalysis] | None = None
        self._trend_lock = threading.Lock()
        #: called (on the writer thread) when the background analysis has caught up
        self.on_idle: Callable[[], None] | None = None

    # ------------------------------------------------------------------ catalog
    def _catalog_fingerprint(self) -> tuple[Any, ...]:
        return runs_service.catalog_fingerprint(self.store, self.athlete)

    def refresh(self) -> None:
        """Reload the catalog snapshot when it changed; queue the analysis of runs not analysed yet."""
        fp = self._catalog_fingerprint()
        if fp != self._fingerprint:
            rows = runs_service.list_runs(self.store, self.athlete, descending=True)
            ref = athlete_ref_speed(self.store, self.athlete)
            entries = [_entry(r) for r in rows]
            zones = zone_names(e.balance_mean_left_pct for e in entries)
            entries = [replace(e, balance_zone=z) for e, z in zip(entries, zones, strict=True)]
            with self._lock:
                self._fingerprint = fp
                self._prefetched = None
                self._ref = ref
                self._entries = tuple(entries)
                live = {e.id for e in entries}
                self._rows = {k: v for k, v in self._rows.items() if k in live}
                self._version += 1
                self._rows_version += 1
        self._schedule()

    def _merged_all(self) -> tuple[tuple[RunEntry, ...], dict[str, RunEntry], Any]:
        with self._lock:
            key = (self._version, self._rows_version, self._ref)
            cached = self._merged_cache
            if cached is not None and cached[0] == key:
                return cached[1], cached[2], key
            entries, rows, ref = self._entries, dict(self._rows), self._ref
        out = []
        for e in entries:
            got = rows.get(e.id)
            if got is None:
                out.append(e)
            elif got[0] == ref:
                out.append(_with_row(e, got[1], got[2]))
            else:  # at the previous reference speed: shown until re-derived, still pending
                out.append(replace(_with_row(e, got[1], got[2]), analysed=False))
        zones = zone_names(e.adjusted_left_pct for e in out)
        merged = tuple(
            replace(e, adjusted_zone=z) if z is not None else e for e, z in zip(out, zones, strict=True)
        )
        by_id = {e.id: e for e in merged}
        with self._lock:
            self._merged_cache = (key, merged, by_id)
        return merged, by_id, key

    def _merged(self) -> tuple[RunEntry, ...]:
        return self._merged_all()[0]

    @property
    def ref_speed_m_s(self) -> float | None:
        return self._ref

    @property
    def version(self) -> tuple[Any, ...]:
        """Changes whenever the catalog or an analysed row changes (cache key of derived views)."""
        with self._lock:
            return (self._version, self._fingerprint, self._ref, self._rows_version)

    def entries(self) -> tuple[RunEntry, ...]:
        """All activities, newest first (refreshes the catalog snapshot if it changed)."""
        self.refresh()
        return self._merged()

    def get(self, activity_id: str) -> RunEntry | None:
        self.refresh()
        return self._merged_all()[1].get(activity_id)

    def json_items(self, entries: Iterable[RunEntry], tags: dict[str, list[str]] | None = None) -> bytes:
        """``entries`` as a JSON array (each item's :meth:`RunEntry.to_json`, encoded once and cached),
        each with its ``tags`` (labels, read per request: tags change without a catalog change)."""
        tags = tags or {}
        key = self._merged_all()[2]
        cache_key, cache = self._json_cache
        if cache_key != key:
            cache = {}
            self._json_cache = (key, cache)
        parts = []
        for e in entries:
            b = cache.get(e.id)
            if b is None:
                b = dumps(e.to_json(), compact=True).encode()
                cache[e.id] = b
            parts.append(b[:-1] + b',"tags":' + dumps(tags.get(e.id, [])).encode() + b"}")
        return b"[" + b",".join(parts) + b"]"

    def query(
        self,
        query: RunQuery,
        *,
        offset: int = 0,
        limit: int | None = None,
        tags: Callable[[Iterable[str]], dict[str, list[str]]] | None = None,
    ) -> tuple[list[RunEntry], int]:
        """Matching entries (sorted, sliced) and the number of matches. ``tags`` reads the tag
        labels of run ids; it is called (once, for all runs) only when the query looks at tags."""
        entries = self.entries()
        labels = tags(e.id for e in entries) if tags is not None and query.needs_tags else None
        hits = [e for e in entries if query.matches(e, labels)]
        if query.sort != "date" or not query.descending:
            hits.sort(key=query.sort_key())
        total = len(hits)
        end = None if limit is None else offset + limit
        return hits[offset:end], total

    def pending(self) -> int:
        """Runs whose analysis is not in the index yet."""
        return sum(1 for e in self._merged() if e.is_run and not e.analysed)

    def all_flags(self) -> list[str]:
        return sorted({f for e in self._merged() for f in e.flags})

    # ------------------------------------------------------------------ background analysis
    def _todo(self) -> list[RunEntry]:
        with self._lock:
            ref = self._ref
            return [e for e in self._entries if e.is_run and self._rows.get(e.id, (object(),))[0] != ref]

    def _schedule(self) -> None:
        if not self.background:
            return
        with self._lock:
            if self._job_queued:
                return
            self._job_queued = True
        todo = self._todo()
        if not todo:
            with self._lock:
                self._job_queued = False
            return
        try:
            self.writer.submit(self._analyse_some, PRIORITY_BACKGROUND)
        except RuntimeError:  # writer closed (shutting down)
            with self._lock:
                self._job_queued = False

    def analyse_now(self, ids: Iterable[str] | None = None) -> int:
        """Analyse (and cache) the given runs, or all pending ones, in the calling thread.

        For scripts and benchmarks that prepare a store; the server uses the background jobs."""
        self.refresh()
        wanted = set(ids) if ids is not None else None
        todo = [e for e in self._todo() if wanted is None or e.id in wanted]
        self._analyse(todo, budget_s=None)
        return len(todo)

    def _analyse_some(self) -> None:
        with self._lock:
            self._job_queued = False
        self._analyse(self._todo(), budget_s=_JOB_BUDGET_S)
        if self._todo():
            self._schedule()
        elif self.on_idle is not None:
            self.on_idle()

    def _analyse(self, todo: list[RunEntry], budget_s: float | None) -> None:
        t0 = time.perf_counter()
        # a server starting on a big store: the cached analyses in one read (kept until the catalog
        # changes), not one query per run
        if len(todo) > 8 and self._prefetched is None:
            self._prefetched = cached_analyses(self.store, self.athlete)
        cached = self._prefetched or {}
        for e in todo:
            ref = self._ref
            try:
                analysis = cached.pop(e.id, None) or analyze_activity(self.store, self.athlete, e.id)
                got: tuple[float | None, dict[str, Any] | None, str | None] = (
                    ref,
                    run_row(e.id, e.start_time, analysis, ref),
                    None,
                )
            except Exception as exc:  # one odd run must not stop the others: it shows "error"
                _log.warning("cannot analyse run %s: %s", e.id[:10], exc)
                got = (ref, None, str(exc))
            with self._lock:
                self._rows[e.id] = got
                self._rows_version += 1
            if budget_s is not None and time.perf_counter() - t0 > budget_s:
                return

    # ------------------------------------------------------------------ derived views
    def run_table(self) -> pd.DataFrame:
        """The analysed runs as :func:`stridelab.services.analysis.run_table` would return them
        (oldest first)."""
        rows = [e.row for e in reversed(self.entries()) if e.row is not None]
        table = pd.DataFrame.from_records(rows)
        if len(table):
            table["start_time"] = pd.to_datetime(table["start_time"], utc=True)
            table = table.sort_values("start_time", kind="stable").reset_index(drop=True)
        return table

    def trend(self) -> TrendAnalysis:
        """:func:`stridelab.services.analysis.trend_analysis` of the analysed runs, memoised per index
        version."""
        key = self.version
        cached = self._trend
        if cached is not None and cached[0] == key:
            return cached[1]
        with self._trend_lock:
            cached = self._trend
            if cached is not None and cached[0] == key:
                return cached[1]
            result = trend_analysis(self.run_table(), self._ref)
            self._trend = (key, result)
            return result

    def asymmetry_provider(self) -> Callable[[Store, str, date | None, date | None], pd.DataFrame]:
        """A :func:`stridelab.training.weekly_load` provider reading the analysed rows (no analyses)."""

        def provider(store: Store, athlete: str, since: date | None, until: date | None) -> pd.DataFrame:
            recs = []
            for e in self._merged():
                if e.row is None:
                    continue
                day = e.start_time.date()
                if (since and day < since) or (until and day > until):
                    continue
                gct = finite_or_none(e.row.get("gct_at_ref_speed_ms"))
                recs.append(
                    {
                        "activity_id": e.id,
                        "balance_left_pct": e.adjusted_left_pct
                        if e.adjusted_left_pct is not None
                        else np.nan,
                        "gct_s": gct / 1000.0 if gct is not None else np.nan,
                    }
                )
            out = pd.DataFrame.from_records(recs, columns=["activity_id", "balance_left_pct", "gct_s"])
            out = out.astype({"balance_left_pct": "float64", "gct_s": "float64"})
            if self._ref is not None:
                out.attrs["ref_speed_m_s"] = float(self._ref)
            return out

        return provider
