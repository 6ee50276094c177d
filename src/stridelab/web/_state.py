"""The application's state: the store, the one writer, the runs index, caches, import jobs, templates."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

import stridelab.web._format as _format
from stridelab.services import analysis as analysis_service
from stridelab.services import open_store
from stridelab.services import runs as runs_service
from stridelab.services.analysis import RunAnalysis
from stridelab.services.experiments import list_experiments
from stridelab.web._config import WebConfig
from stridelab.web._index import RunEntry, RunIndex
from stridelab.web._writer import PRIORITY_IMPORT, PRIORITY_USER, Writer

__all__ = ["BoundedMemo", "ImportJob", "RunBundle", "WebState"]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
_RUN_CACHE_SIZE: Final[int] = 6
#: split frames kept for the run pages (two per run: per lap and per km or mile)
_SPLIT_MEMO_SIZE: Final[int] = 24
_MAX_JOBS_KEPT: Final[int] = 50
#: a user write waits at most this long for the writer (an import of a huge zip may be running)
WRITE_TIMEOUT_S: Final[float] = 120.0


@dataclass(slots=True)
class RunBundle:
    """One run's full analysis (per-sample arrays kept) and its chart specs, built on demand."""

    entry: RunEntry
    analysis: RunAnalysis
    laps: pd.DataFrame
    ref_speed_m_s: float | None
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class BoundedMemo(MutableMapping[K, V]):
    """A thread-safe mapping that keeps the ``size`` most recently used entries (the run pages' split
    frames: a page seen again reads no records)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, key: K) -> V:
        with self._lock:
            value = self._data[key]
            self._data.move_to_end(key)
            return value

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def __delitem__(self, key: K) -> None:
        with self._lock:
            del self._data[key]

    def __iter__(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)


@dataclass(slots=True)
class ImportJob:
    """An uploaded file being imported by the writer."""

    id: str
    filename: str
    size_bytes: int
    status: str = "queued"  # queued | running | done | failed
    done: int = 0
    total: int = 0
    result: dict[str, Any] | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "size_bytes": self.size_bytes,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "result": self.result,
            "error": self.error,
        }


class WebState:
    """Everything a request handler needs; one per app."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.store = open_store(config.store_path)
        self.writer = Writer()
        self.index = RunIndex(self.store, config.athlete, self.writer, background=config.background_analysis)
        self.env = Environment(
            loader=PackageLoader("stridelab.web", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _format.install(self.env)
        self._runs: OrderedDict[tuple[str, float | None], RunBundle] = OrderedDict()
        self._runs_lock = threading.Lock()
        self._building: dict[tuple[str, float | None], threading.Lock] = {}
        #: the run pages' split frames, under the store's fingerprint (``services.splits.split_tables``)
        self.split_memo: BoundedMemo[tuple[str, str, str], pd.DataFrame] = BoundedMemo(_SPLIT_MEMO_SIZE)
        #: analyses a run's records while its page travels to the browser (the charts come next)
        self._prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stridelab-prefetch")
        self.index.on_idle = self.warm
        self.jobs: OrderedDict[str, ImportJob] = OrderedDict()
        self.jobs_lock = threading.Lock()
        self.started = time.time()
        #: memoised derived views: name -> (key, value); a stale key means recompute
        self.memo: dict[str, tuple[Any, Any]] = {}
        #: fill a page's memos when the analyses caught up (registered by the app: the state does not
        #: import the pages, the pages import the state)
        self.warmers: list[Callable[[WebState], None]] = []
        self.write(self._ensure_schemas)

    # ------------------------------------------------------------------ basics
    @property
    def athlete(self) -> str:
        return self.config.athlete

    def today(self) -> date:
        return self.config.today or datetime.now().date()

    def _ensure_schemas(self) -> None:
        from stridelab.services.training import ensure_training_schema

        analysis_service.ensure_schema(self.store)
        ensure_training_schema(self.store)
        # the experiments namespace (tags on the runs pages, the experiments page): its public reader
        # creates or upgrades the tables -- here, on the writer, so no request ever migrates
        list_experiments(self.store, self.athlete)

    def write(
        self, fn: Callable[[], T], priority: int = PRIORITY_USER, timeout_s: float = WRITE_TIMEOUT_S
    ) -> T:
        """Run ``fn`` on the writer thread and wait for its result (re-raising its exception)."""
        return self.writer.submit(fn, priority).result(timeout=timeout_s)

    def close(self) -> None:
        self._prefetch.shutdown(wait=True, cancel_futures=True)
        self.writer.close()
        with self.jobs_lock:
            for job in self.jobs.values():
                if job.status in ("queued", "running"):
                    job.status = "failed"
                    job.error = "the server stopped"
        self.store.close()

    # ------------------------------------------------------------------ runs
    def resolve(self, id_or_prefix: str) -> str:
        """Full id of a run (raises :class:`stridelab.services.UnknownIdError` / ``AmbiguousIdError``)."""
        return runs_service.resolve_id(self.store, self.athlete, id_or_prefix)

    def summary(self, entry: RunEntry) -> RunAnalysis:
        """The run's analysis without per-sample arrays: the cached row when present (a read), else
        computed here *without writing* -- only the writer fills the cache (the background job), so a
        request never writes, even when the cache row went missing or stale since the index read it."""
        cached = analysis_service.cached_analysis(self.store, self.athlete, entry.id)
        if cached is not None:
            return cached
        return analysis_service.analyze_activity(self.store, self.athlete, entry.id, use_cache=False)

    def laps(self, activity_id: str) -> pd.DataFrame:
        """The laps of one run (full id), in order."""
        return runs_service.laps(self.store, self.athlete, activity_id)

    def tags(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """Tag labels per run id (``cue=push-behind``, ``cue=pull-up@lap1,3``): a read of the tags
        table, per request (tags change from the CLI without touching the activities)."""
        return runs_service.run_tags(self.store, self.athlete, ids)

    def prefetch(self, entry: RunEntry) -> None:
        """Start :meth:`bundle` in the background (read-only; errors surface on the chart request)."""
        with contextlib.suppress(RuntimeError):  # shutting down
            self._prefetch.submit(self._quiet_bundle, entry)

    def warm(self) -> None:
        """Run the pages' :attr:`warmers` in the background (the trends and the load), so the next visit
        is instant (only with ``background_analysis``)."""
        if not self.config.background_analysis:
            return

        def run() -> None:
            for warm in list(self.warmers):
                with contextlib.suppress(Exception):
                    warm(self)

        with contextlib.suppress(RuntimeError):
            self._prefetch.submit(run)

    def _quiet_bundle(self, entry: RunEntry) -> None:
        with contextlib.suppress(Exception):
            self.bundle(entry)

    def bundle(self, entry: RunEntry) -> RunBundle:
        """The full analysis of one run (LRU of a few runs: the charts of one page share it)."""
        key = (entry.id, self.index.ref_speed_m_s)
        with self._runs_lock:
            got = self._runs.get(key)
            if got is not None:
                self._runs.move_to_end(key)
                return got
            building = self._building.setdefault(key, threading.Lock())
        with building:  # the page's charts arrive together: analyse the run once, not once per chart
            with self._runs_lock:
                got = self._runs.get(key)
            if got is not None:
                return got
            analysis = analysis_service.analyze_activity(
                self.store, self.athlete, entry.id, use_cache=False, keep_frame=True
            )
            laps = runs_service.laps(self.store, self.athlete, entry.id)
            bundle = RunBundle(entry, analysis, laps, self.index.ref_speed_m_s)
            with self._runs_lock:
                self._runs[key] = bundle
                self._building.pop(key, None)
                while len(self._runs) > _RUN_CACHE_SIZE:
                    self._runs.popitem(last=False)
        return bundle

    def positions(self, activity_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Latitude and longitude (deg) of a run's records, None without GPS."""
        return analysis_service.positions(self.store, self.athlete, activity_id)

    # ------------------------------------------------------------------ imports
    def start_import(self, filename: str, path: Path, size_bytes: int) -> ImportJob:
        """Queue the import of an uploaded file (its temp folder is removed afterwards)."""
        from stridelab.services.import_worker import import_in_worker

        job = ImportJob(uuid.uuid4().hex, filename, size_bytes)
        with self.jobs_lock:
            self.jobs[job.id] = job
            while len(self.jobs) > _MAX_JOBS_KEPT:
                oldest = next(iter(self.jobs))
                if self.jobs[oldest].status in ("queued", "running"):
                    break
                self.jobs.popitem(last=False)

        def progress(done: int, total: int, _path: str) -> None:
            job.done, job.total = done, total

        def run() -> None:
            job.status = "running"
            try:
                # decoded in a child process under the memory limit, never in the server's own
                done = import_in_worker(
                    self.store,
                    [path],
                    athlete=self.athlete,
                    progress=progress,
                    relabel=(str(path.parent), "upload/"),  # not the server's temp folder
                    memory_limit=self.config.max_memory_bytes,
                )
                job.result = done.result.to_json()
                job.status = "done"
            except Exception as exc:
                job.error = f"{type(exc).__name__}: {exc}"
                job.status = "failed"
            finally:
                with contextlib.suppress(OSError):
                    shutil.rmtree(path.parent)
            self.index.refresh()

        try:
            self.writer.submit(run, PRIORITY_IMPORT)
        except RuntimeError as exc:
            job.status, job.error = "failed", str(exc)
            shutil.rmtree(path.parent, ignore_errors=True)
        return job

    def active_jobs(self) -> int:
        with self.jobs_lock:
            return sum(1 for j in self.jobs.values() if j.status in ("queued", "running"))
