"""A re-import that the source cache answers alone: every file already imported, unchanged.

``stridelab import FOLDER`` of a folder imported before reads no file when nothing changed: each
file's (absolute path, size + mtime) is in the source cache (``sources``), so it is skipped unread
(:mod:`stridelab.services.imports` does the same per file). :func:`unchanged_import` decides this for
the whole import from ``stat`` and one SQLite query, before the readers, pandas, pyarrow or numpy are
imported (they cost about a second of start-up); any file it cannot vouch for sends the import down
the full path (:func:`stridelab.services.imports.import_paths`), which gives the same result for the
files it could.

Vouched for: files named on the command line and regular files inside folders (walked in the same
order as the full import) whose key and fingerprint the cache holds for ``athlete``. Anything else --
a new or changed file, a zip archive (its members are checked by the full path), a sidecar, a pipe, a
folder that cannot be listed -- and a store with runs still waiting for the local-time back-fill
(:mod:`stridelab.services.local_time`, which reads files) return None: the full import runs.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterable
from pathlib import Path

from stridelab.services._import_result import ImportResult, failure_key
from stridelab.store import Store, check_athlete
from stridelab.store.imports import checkpoint, file_fingerprint, known_fingerprints
from stridelab.store.maintenance import clear_failure, failed_files
from stridelab.store.offsets import unchecked_runs

__all__ = ["unchanged_import"]


def _known_files(
    paths: Iterable[Path | str], known: dict[tuple[str, str], str]
) -> list[tuple[str, str]] | None:
    """``(display, activity id)`` of every file of ``paths`` in the full import's order, or None as
    soon as one is not in ``known``."""
    out: list[tuple[str, str]] = []

    def known_file(p: Path, st: os.stat_result) -> bool:
        if not stat.S_ISREG(st.st_mode):
            return False
        sha = known.get((os.path.abspath(p), file_fingerprint(st.st_size, st.st_mtime_ns)))
        if sha is None:
            return False
        out.append((str(p), sha))
        return True

    for raw in paths:
        path = Path(raw).expanduser()
        try:
            st = path.stat()
        except OSError:
            return None
        if stat.S_ISDIR(st.st_mode):
            failed = False

            def onerror(_exc: OSError) -> None:
                nonlocal failed
                failed = True

            for root, dirs, files in os.walk(path, onerror=onerror):
                dirs.sort()
                for name in sorted(files):
                    p = Path(root) / name
                    try:
                        if not known_file(p, p.stat()):
                            return None
                    except OSError:
                        return None
            if failed:
                return None
        elif not known_file(path, st):
            return None
    return out


def unchanged_import(
    store: Store, paths: Iterable[Path | str], *, athlete: str = "me"
) -> ImportResult | None:
    """The result of importing ``paths`` into ``store`` when the source cache knows every file
    (each skipped, as :func:`stridelab.services.imports.import_paths` would report it), else None
    (nothing done: run the full import). Raises :class:`~stridelab.store.StoreError` for an invalid
    ``athlete`` name."""
    t0 = time.perf_counter()
    check_athlete(athlete)
    skipped = _known_files(paths, known_fingerprints(store, athlete))
    if skipped is None or unchecked_runs(store, athlete):
        return None
    result = ImportResult(skipped=skipped)
    # as the full import: these files are not failures any more (best effort: sqlite3.Error,
    # StoreError of a read-only store are no reason to fail); nothing to write when none is listed
    with contextlib.suppress(Exception):
        if any(f.athlete == athlete for f in failed_files(store)):
            clear_failure(store, athlete, sorted({failure_key(p) for p, _ in skipped}))
            checkpoint(store)
    result.seconds = time.perf_counter() - t0
    return result
