"""The one writer: every write the server makes runs on one dedicated thread.

SQLite in WAL mode lets any number of readers proceed while one connection writes. The server keeps
its own writes (session logs, balance tests, uploaded imports, filling the analysis cache) on one
thread, in priority order, so they never contend with each other; a CLI import in another process
waits on SQLite's busy timeout (30 s) for the short moments the writer holds the lock, and vice versa.

Jobs are callables; :meth:`Writer.submit` returns a :class:`concurrent.futures.Future`. Lower
``priority`` numbers run first (a runner logging her session must not wait behind the background
analysis); jobs of equal priority run in submission order.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

__all__ = ["PRIORITY_BACKGROUND", "PRIORITY_IMPORT", "PRIORITY_USER", "Writer"]

T = TypeVar("T")
PRIORITY_USER: Final[int] = 0
PRIORITY_IMPORT: Final[int] = 5
PRIORITY_BACKGROUND: Final[int] = 9
_log = logging.getLogger("stridelab.web")


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    fn: Callable[[], Any] = field(compare=False)
    future: Future[Any] = field(compare=False)


class Writer:
    """A single daemon thread running write jobs by priority."""

    def __init__(self, name: str = "stridelab-writer") -> None:
        self._queue: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._name = name
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def thread_ident(self) -> int | None:
        """The writer thread's id (None before the first job)."""
        return self._thread.ident if self._thread else None

    def submit(self, fn: Callable[[], T], priority: int = PRIORITY_USER) -> Future[T]:
        """Queue ``fn`` to run on the writer thread; its result or exception lands in the future."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the writer is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        future: Future[T] = Future()
        self._queue.put(_Job(priority, next(self._seq), fn, future))
        return future

    def pending(self) -> int:
        """Jobs waiting (not counting the running one)."""
        return self._queue.qsize()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job.fn is _STOP:
                job.future.set_result(None)
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                job.future.set_result(job.fn())
            except BaseException as exc:  # delivered to the submitter
                _log.debug("writer job failed: %s", exc)
                job.future.set_exception(exc)

    def close(self, timeout_s: float = 10.0) -> None:
        """Finish the queued user jobs, drop the background ones, stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        dropped: list[_Job] = []
        kept: list[_Job] = []
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            (dropped if job.priority >= PRIORITY_BACKGROUND else kept).append(job)
        for job in dropped:
            job.future.cancel()
        for job in kept:
            self._queue.put(job)
        self._queue.put(_Job(PRIORITY_BACKGROUND + 1, next(self._seq), _STOP, Future()))
        thread.join(timeout_s)


def _STOP() -> None:  # sentinel job
    return None
