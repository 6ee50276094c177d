"""``stridelab doctor``: check a store's health and, with ``fix``, repair what can be repaired.

Checks, in order:

1. the catalog: SQLite ``PRAGMA integrity_check`` and ``foreign_key_check`` (not repairable here:
   restore a backup);
2. every stream the catalog points to: present, a readable Parquet file, as many rows as the catalog
   says (repaired by deriving the run again from its source file when that file is still there);
3. leftovers: temporary files of interrupted stream writes, orphan streams no catalog row points to
   (both only when older than a few minutes: a concurrent import may be about to commit them), and
   ``stridelab-import-*`` folders older than a day in the system temp folder (removed);
4. runs derived by an older decoder (``activities.decoder_version`` below
   :data:`stridelab.version.DECODER_VERSION`: e.g. old timer times, multisport cadence, 1990 dates of
   device-relative files): derived again from their source file (repaired) -- or reported when the
   file is gone;
5. files an import could not read with an older decoder: imported again (repaired when they now
   import) -- or forgotten when the file is gone;
6. FIT runs imported before the file's local time (UTC offset) was kept: read from their source file
   (:mod:`stridelab.services.local_time`; every ``import`` does it too).

With ``fix`` it ends with :meth:`Store.vacuum` (the write-ahead log folded in, free pages reclaimed).
The report's exit code is 0 when nothing was found, 1 when anything was (each finding says whether
it was fixed).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stridelab.io import NotAnActivityError, content_head, find_reader
from stridelab.model import Activity
from stridelab.services.local_time import source_bytes
from stridelab.store import Store, StoreError
from stridelab.store.activities import prepare_activity
from stridelab.store.maintenance import (
    SWEEP_AGE_S,
    catalog_problems,
    clear_failure,
    failed_files,
    leftover_files,
    outdated_runs,
    replace_derived,
    run_count,
    source_keys,
    stream_problems,
)
from stridelab.version import DECODER_VERSION

__all__ = ["IMPORT_TEMP_AGE_S", "DoctorReport", "Finding", "run_doctor"]

#: ``stridelab-import-*`` temp folders untouched for this long belong to no running import
IMPORT_TEMP_AGE_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: its ``kind``, what it concerns, details, and whether it was fixed (None: fixing
    was not asked for)."""

    kind: str
    what: str
    detail: str
    fixed: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "what": self.what, "detail": self.detail, "fixed": self.fixed}


@dataclass(slots=True)
class DoctorReport:
    store: Path
    fix: bool
    runs: int = 0
    streams: int = 0
    findings: list[Finding] = field(default_factory=list)
    vacuumed_files: int = 0
    seconds: float = 0.0

    @property
    def healthy(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        """0: nothing found; 1: problems found (fixed or not: see each finding)."""
        return 0 if self.healthy else 1

    @property
    def unfixed(self) -> list[Finding]:
        return [f for f in self.findings if not f.fixed]

    def to_json(self) -> dict[str, Any]:
        return {
            "store": str(self.store),
            "healthy": self.healthy,
            "fix": self.fix,
            "runs_checked": self.runs,
            "streams_checked": self.streams,
            "problems": len(self.findings),
            "fixed": sum(1 for f in self.findings if f.fixed),
            "not_fixed": len(self.unfixed),
            "findings": [f.to_json() for f in self.findings],
            "seconds": round(self.seconds, 3),
        }


def run_doctor(
    store: Store,
    *,
    fix: bool = False,
    min_age_s: float = SWEEP_AGE_S,
    temp_dir: Path | None = None,
    import_temp_age_s: float = IMPORT_TEMP_AGE_S,
) -> DoctorReport:
    """Check ``store`` (and repair it with ``fix``); see the module docstring. ``min_age_s``: leftover
    streams younger than this are spared; ``temp_dir``: where import temp folders are looked for
    (default: the system temp folder)."""
    t0 = time.perf_counter()
    report = DoctorReport(store.root, fix)
    conn = store.connect()
    report.runs = run_count(store)
    add = report.findings.append

    for problem in catalog_problems(conn):
        add(Finding("catalog", str(store.catalog_path), problem, False if fix else None))

    problems = stream_problems(store)
    report.streams = report.runs  # record streams; IMU streams are counted with their recordings
    for ref, problem in problems:
        fixed: bool | None = None
        detail = problem
        if fix:
            fixed, why = _rederive(store, ref.athlete, ref.key) if ref.kind == "records" else (False, "")
            detail += f"; {why}" if why else "; restore a backup or delete the run"
        add(Finding("stream", ref.relpath, detail, fixed))

    temps, orphans = leftover_files(store, min_age_s=min_age_s)
    for kind, files in (("temp_file", temps), ("orphan_stream", orphans)):
        for f in files:
            add(
                Finding(
                    kind, str(f.relative_to(store.root)), _leftover_text(kind), _remove(f) if fix else None
                )
            )
    for folder in _import_temp_dirs(temp_dir, import_temp_age_s):
        add(
            Finding(
                "import_temp_dir",
                str(folder),
                "temporary folder of an import that ended long ago",
                _remove(folder) if fix else None,
            )
        )

    for athlete, activity_id, keys in outdated_runs(store, DECODER_VERSION):
        what = f"run {activity_id[:12]} (athlete {athlete})"
        detail = f"derived by an older decoder (now version {DECODER_VERSION})"
        fixed = None
        if fix:
            fixed, why = _rederive(store, athlete, activity_id, keys)
            detail += f"; {why}"
        add(Finding("outdated_run", what, detail, fixed))

    for failure in failed_files(store, below_version=DECODER_VERSION):
        detail = f"failed with decoder version {failure.decoder_version}: {failure.reason}"
        fixed = None
        if fix:
            fixed, why = _retry(store, failure.athlete, failure.path)
            detail += f"; {why}"
        add(Finding("failed_file", failure.path, detail, fixed))

    from stridelab.services.local_time import backfill_utc_offsets, runs_without_local_time

    waiting = runs_without_local_time(store)
    if waiting:
        detail = f"{waiting} FIT runs imported before their file's local time was kept"
        fixed = None
        if fix:
            done = backfill_utc_offsets(store)
            fixed = True
            detail += (
                f"; read their files: {done.gained} gained their UTC offset, "
                f"{done.checked - done.gained - done.missing_files} files hold none, "
                f"{done.missing_files} files are gone (the machine's zone is shown for those)"
            )
        add(Finding("no_local_time", "runs", detail, fixed))

    if fix:
        report.vacuumed_files = store.vacuum(min_age_s=min_age_s)
    report.seconds = time.perf_counter() - t0
    return report


def _leftover_text(kind: str) -> str:
    if kind == "temp_file":
        return "temporary file of an interrupted stream write"
    return "stream no catalog row points to (an import killed before its commit)"


def _remove(path: Path) -> bool:
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _import_temp_dirs(temp_dir: Path | None, min_age_s: float) -> list[Path]:
    """``stridelab-import-*`` folders of the temp folder with nothing in them newer than ``min_age_s``."""
    base = Path(temp_dir) if temp_dir is not None else Path(tempfile.gettempdir())
    now = time.time()
    out = []
    try:
        candidates = sorted(p for p in base.glob("stridelab-import-*") if p.is_dir() and not p.is_symlink())
    except OSError:
        return []
    for folder in candidates:
        try:
            newest = max([folder.stat().st_mtime, *(c.stat().st_mtime for c in folder.iterdir())])
        except OSError:
            continue
        if now - newest >= min_age_s:
            out.append(folder)
    return out


# ---------------------------------------------------------------------------- derive again
def _read_activity(data: bytes, name: str, activity_id: str) -> Activity | None:
    """The activity ``activity_id`` read from ``data`` by the reader that takes it, or None."""
    reader = find_reader(content_head(data), name)
    if reader is None:
        return None
    if reader.multi:
        for item in reader.read_all(data, name=name):
            if isinstance(item, Activity) and item.id == activity_id:
                return item
        return None
    if hashlib.sha256(data).hexdigest() != activity_id:
        return None  # the file changed since: it is not this run's source any more
    result = reader.read(data, name=name)
    return result if isinstance(result, Activity) else None


def _rederive(
    store: Store, athlete: str, activity_id: str, keys: list[str] | None = None
) -> tuple[bool, str]:
    """Derive one stored run again from its source file with this version's decoder: its stream and
    catalog values replaced in place (links, tags, import time kept). ``(done, why)``."""
    if keys is None:
        keys = source_keys(store, activity_id)
    try:
        row = store.activity(athlete, activity_id)
    except StoreError as exc:
        return False, str(exc)
    name = row.source_path or activity_id
    for key in keys:
        data = source_bytes(key)
        if data is None:
            continue
        try:
            activity = _read_activity(data, name, activity_id)
        except (NotAnActivityError, ValueError, OSError) as exc:
            return False, f"the source {key} no longer reads: {exc}"
        if activity is None:
            continue
        activity.name = activity.name or row.summary.get("name")  # a bulk export's title and gear
        activity.gear = activity.gear or row.summary.get("gear")
        try:
            replace_derived(store, prepare_activity(store, athlete, activity))
        except (StoreError, OSError) as exc:
            return False, f"could not store the new values: {exc}"
        return True, f"derived again from {key}"
    where = ", ".join(keys) if keys else "no source recorded"
    return False, f"its source file is gone or changed ({where}); values kept as they were"


def _retry(store: Store, athlete: str, key: str) -> tuple[bool, str]:
    """Import a failed file again (the whole zip for a member: its known members are skipped). The
    import itself records the outcome (:mod:`stridelab.services.imports` remembers failures)."""
    from stridelab.services.imports import import_paths  # the import pipeline

    path = key.partition("!")[0]
    if not os.path.exists(path):
        clear_failure(store, athlete, [key])
        return False, "the file is gone (forgotten)"
    result = import_paths(store, [Path(path)], athlete=athlete, workers=1)
    still = [f for f in failed_files(store) if f.athlete == athlete and f.path == key]
    if still and still[0].decoder_version == DECODER_VERSION:
        return False, f"still fails: {still[0].reason}"
    clear_failure(store, athlete, [key])
    return True, f"imported again ({len(result.imported)} imported, {len(result.skipped)} already present)"
