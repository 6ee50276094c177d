"""Imports: files, folders, zip exports and ``.fit.gz`` into the store (``stridelab import``, the web
upload).

Pipeline: enumerate candidate items (cheap: ``stat`` and zip directories; a zip nested in a zip is
extracted to a temporary file, bounded by the zip-bomb guards, never held in memory) -> skip items whose
fingerprint (size + mtime, or a zip member's size + CRC) maps to an activity already stored ->
decode the rest in a process pool (each worker reads, hashes, decodes and writes the record stream
atomically) -> the parent commits the catalog rows in short transactions. A killed import leaves at
most orphan stream files that no catalog row points to; nothing stored before is touched.

Which reader reads a file: the reader registry of :mod:`stridelab.io` decides, content first (the
first bytes, decompressed when gzip), extension second -- for files named on the command line and
inside folders and zips alike. Zips (``.zip``, any case) are containers: their members are walked.
A file named on the command line that no reader takes fails with a reason; in folders and zips, such
files (JSON, images, pipes...) are listed as ignored, not failed, and a reader's companion files (an
IMU recording's ``.imu.json`` sidecar) are read with their data file, never listed. The result of the
reader routes the file: an :class:`~stridelab.model.Activity` is stored as a run (the stream written
by the worker, the catalog rows committed by the parent in batches); an IMU recording is analysed
and stored by :mod:`stridelab.services.imu` (in its own transaction).

Outcome per file: imported, skipped (already present), not an activity (a sound file that holds none by
design: a FIT settings, monitoring, workout, weight... file; any reader raises
:class:`~stridelab.io.NotAnActivityError`), failed (nothing usable), and among the imported ones
*warnings* (damaged: kept up to the fault; the import's exit code is 1) and *notes* (sound, with a
remark). See :class:`ImportResult`.

Bulk exports: a Strava export zip's ``activities.csv`` gives the name, gear and (when the file has none)
sport of each activity file it lists, whatever reader reads the file (see :mod:`._bulk_exports`); a
Garmin Connect account export is nested zips of FIT files beside JSON, walked like any zip.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import posixpath
import stat
import tempfile
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from stridelab.io import (
    NotAnActivityError,
    Reader,
    archive_reader,
    content_head,
    file_head,
    find_reader,
    is_companion,
    unsupported,
)
from stridelab.io.fit import MAX_FIT_BYTES, FitDecodeError, gunzip_limited, read_limited
from stridelab.io.healthkit import DailyGaitMetrics
from stridelab.io.imu import ImuRecording
from stridelab.model import Activity
from stridelab.procs import children_follow, follow_parent
from stridelab.services._bulk_exports import (
    ExportMetadata,
    apply_metadata,
    is_strava_csv_member,
    strava_metadata,
)
from stridelab.services._import_result import ImportResult, _relabel, failure_key
from stridelab.services.memory import (
    BASE_RSS_BYTES,
    DEFAULT_MEMORY_BUDGET_BYTES,
    MemoryBudgetError,
    budget_from_env,
    check_budget,
    content_size,
    estimate_decode_bytes,
    max_decodable_bytes,
)
from stridelab.store import Store, check_athlete
from stridelab.store import health as health_store
from stridelab.store.activities import PreparedActivity, prepare_activity
from stridelab.store.imports import SourceRow, checkpoint, commit_batch, file_fingerprint, known_fingerprints
from stridelab.store.maintenance import clear_failure, record_failures
from stridelab.version import DECODER_VERSION

__all__ = ["FileProgressFn", "ImportResult", "ProgressFn", "import_paths"]

#: largest file we read into memory (decompressed); real FIT activities are < 50 MB
MAX_FILE_BYTES = MAX_FIT_BYTES
#: zip-bomb guard: decompressed/compressed ratio above which a member is refused
MAX_ZIP_RATIO = 200.0
#: total decompressed bytes one zip may expand to (its nested zips included)
MAX_ZIP_TOTAL_BYTES = 8 * 1024**3
#: zips inside zips deeper than this are refused (account exports nest two levels)
MAX_ZIP_DEPTH = 6
#: below this many bytes to decode, decoding in-process beats starting a process pool
IN_PROCESS_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Item:
    """One candidate: a file, or a member of a zip (``member`` set), and the reader that takes it.

    ``path`` is the file named on disk (for a zip member, the outermost zip: with ``display`` it
    identifies the item across imports); ``zip_file`` is the zip to open for ``member`` when it is
    not ``path`` (a nested zip, extracted to a temporary file for this import).
    """

    display: str
    path: str
    reader: Reader[Any]
    member: str | None = None
    fingerprint: str | None = None
    zip_file: str | None = None
    size: int | None = None
    explicit: bool = False
    label: str | None = None  # what to report and store as the source path (default: display)
    export_meta: ExportMetadata | None = None  # what a bulk export's activity list says of it

    @property
    def key(self) -> str:
        """Location independent of the working directory (the source-cache key)."""
        return _source_key(self.path, self.display)


def _source_key(path: str, display: str) -> str:
    """The source-cache key of an item on disk at ``path`` shown as ``display`` (a file: its absolute
    path; a zip member: the zip's absolute path, ``!``, the member)."""
    base = os.path.abspath(path)
    return base + display[len(path) :] if display.startswith(path) else base


@dataclass(frozen=True, slots=True)
class _Known:
    """An item the source cache maps to a stored activity (same path and size + mtime, or same zip
    member size + CRC): skipped without reading it, not even its first bytes."""

    display: str
    sha256: str


#: (source key, fingerprint) -> activity id, as :func:`stridelab.store.imports.known_fingerprints`
_KnownMap = dict[tuple[str, str], str]


ProgressFn = Callable[[int, int, str], None]
#: ``file_progress(path, done_bytes, total_bytes)``: progress inside one large file (an Apple Health
#: export), from whichever process reads it
FileProgressFn = Callable[[str, int, int], None]
#: where this process sends file progress (set for the duration of an in-process import, or for good in
#: a worker process, whose reports go to the parent through a queue)
_FILE_PROGRESS: FileProgressFn | None = None


def _init_worker(queue: Any) -> None:
    """A worker process's initializer: file progress goes to the parent through ``queue`` (None: no
    file progress asked for)."""
    global _FILE_PROGRESS
    if queue is not None:
        _FILE_PROGRESS = lambda path, done, total: queue.put((path, done, total))  # noqa: E731


# ---------------------------------------------------------------------------- enumeration
def _is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def _file_reader(path: Path) -> Reader[Any] | None:
    """The reader of a regular file on disk (the registry: content first, extension second); for a
    zip, a reader that takes the whole archive (an Apple Health export.zip), else None (walked)."""
    reader = find_reader(file_head(path), str(path))
    if reader is None and _is_zip(path.name):
        try:
            with zipfile.ZipFile(path) as zf:
                return archive_reader(zf.namelist())
        except (zipfile.BadZipFile, OSError):
            return None
    return reader


@dataclass(slots=True)
class _ZipContext:
    """State shared by the zips of one import: where nested zips are extracted, and a byte budget."""

    spill: Path
    extracted: int = 0
    counter: int = 0


def _zip_items(
    zip_path: Path,
    display_prefix: str,
    result: ImportResult,
    ctx: _ZipContext,
    known: _KnownMap,
    *,
    origin: str | None = None,
    depth: int = 0,
) -> Iterator[_Item | _Known]:
    """The candidate members of a zip; nested zips are extracted (bounded) to ``ctx.spill`` and walked.

    ``origin`` is the outermost zip on disk when ``zip_path`` is an extracted nested zip.
    """
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        result.failed.append((display_prefix, f"not a readable zip archive: {exc}"))
        return
    total = 0
    with zf:
        export_meta, consumed = _export_metadata(zf, display_prefix, result)
        for info in zf.infolist():
            if info.is_dir() or info.filename in consumed:
                continue
            display = f"{display_prefix}!{info.filename}"
            is_zip = _is_zip(info.filename)
            fingerprint = f"zip:{info.file_size}:{info.CRC:08x}"
            sha = None if is_zip else known.get((_source_key(origin or str(zip_path), display), fingerprint))
            if sha is not None:
                yield _Known(display, sha)
                continue
            reader = None if is_zip else find_reader(_member_head(zf, info), display)
            if reader is None and not is_zip:
                result.ignored.append(display)
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            total += info.file_size
            limit = MAX_ZIP_TOTAL_BYTES if is_zip else MAX_FILE_BYTES
            if info.file_size > limit or ratio > MAX_ZIP_RATIO or total > MAX_ZIP_TOTAL_BYTES:
                result.failed.append(
                    (
                        display,
                        f"refused: expands to {info.file_size} bytes (ratio {ratio:.0f}:1), a zip bomb guard",
                    )
                )
                continue
            if is_zip:
                if depth + 1 > MAX_ZIP_DEPTH:
                    result.failed.append((display, f"refused: zips nested over {MAX_ZIP_DEPTH} levels deep"))
                    continue
                whole = _archive_member_reader(zf, info)
                if whole is not None:  # an Apple Health export.zip inside: streamed from its member
                    yield _Item(
                        display=display,
                        path=origin or str(zip_path),
                        reader=whole,
                        member=info.filename,
                        fingerprint=f"zip:{info.file_size}:{info.CRC:08x}",
                        zip_file=str(zip_path) if origin is not None else None,
                        size=info.file_size,
                    )
                    continue
                if ctx.extracted + info.file_size > MAX_ZIP_TOTAL_BYTES:
                    result.failed.append(
                        (display, f"refused: nested zips expand to more than {MAX_ZIP_TOTAL_BYTES} bytes")
                    )
                    continue
                ctx.counter += 1
                inner = ctx.spill / f"nested-{ctx.counter}.zip"
                try:
                    _extract_limited(zf, info, inner, info.file_size)
                except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
                    inner.unlink(missing_ok=True)
                    result.failed.append((display, f"cannot extract nested zip: {_describe_plain(exc)}"))
                    continue
                ctx.extracted += info.file_size
                yield from _zip_items(
                    inner, display, result, ctx, known, origin=origin or str(zip_path), depth=depth + 1
                )
                continue
            assert reader is not None
            yield _Item(
                display=display,
                path=origin or str(zip_path),
                reader=reader,
                member=info.filename,
                fingerprint=fingerprint,
                zip_file=str(zip_path) if origin is not None else None,
                size=info.file_size,
                export_meta=export_meta.get(posixpath.normpath(info.filename)),
            )


def _export_metadata(
    zf: zipfile.ZipFile, display_prefix: str, result: ImportResult
) -> tuple[dict[str, ExportMetadata], set[str]]:
    """The bulk-export metadata of a zip's members (a Strava ``activities.csv``: name, type, gear by
    member path) and the csv members it came from (read, so neither imported nor ignored). A csv that
    cannot be read fails with its reason; the activities still import, without the metadata."""
    meta: dict[str, ExportMetadata] = {}
    consumed: set[str] = set()
    for info in zf.infolist():
        if info.is_dir() or not is_strava_csv_member(info.filename):
            continue
        try:
            if info.file_size / max(info.compress_size, 1) > MAX_ZIP_RATIO:
                raise ValueError(f"refused: ratio {info.file_size / max(info.compress_size, 1):.0f}:1")
            rows = strava_metadata(zf, info.filename, limit=MAX_FILE_BYTES)
        except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, EOFError) as exc:
            reason = f"cannot read the Strava activity list: {_describe_plain(exc)}"
            result.failed.append((f"{display_prefix}!{info.filename}", reason))
            consumed.add(info.filename)
            continue
        if rows is not None:  # another activities.csv (no Filename column): ignored as any csv
            meta.update(rows)
            consumed.add(info.filename)
    return meta, consumed


def _archive_member_reader(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Reader[Any] | None:
    """The reader that takes a nested zip whole (an Apple Health ``export.zip``: read from inside its
    zip, never extracted), checked for members named ``export.zip`` or ``*health*.zip`` only (listing a
    compressed nested zip means decompressing it once; other nested zips are walked as before)."""
    base = posixpath.basename(info.filename).lower()
    if base != "export.zip" and "health" not in base:
        return None
    try:
        with zf.open(info) as fh, zipfile.ZipFile(fh) as inner:
            return archive_reader(inner.namelist())
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError):
        return None


def _member_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The first bytes of a zip member's content, for the readers' sniff (b"" when unreadable)."""
    if info.file_size == 0:
        return b""
    try:
        with zf.open(info) as fh:
            return content_head(fh.read(4096))
    except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError):
        return b""


def _extract_limited(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int) -> None:
    """Copy one zip member to ``target``, refusing more than ``limit`` bytes (a lying header)."""
    copied = 0
    with zf.open(info) as src, target.open("wb") as dst:
        while chunk := src.read(1 << 20):
            copied += len(chunk)
            if copied > limit:
                raise ValueError(f"larger than the {limit} bytes its zip header declares")
            dst.write(chunk)


def _describe_plain(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno in (28, 27):  # ENOSPC, EFBIG
        return "disk full"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def _fingerprint(st: os.stat_result) -> str:
    return file_fingerprint(st.st_size, st.st_mtime_ns)


def _file_item(path: Path, reader: Reader[Any], explicit: bool, st: os.stat_result | None = None) -> _Item:
    try:
        st = st if st is not None else path.stat()
        fingerprint: str | None = _fingerprint(st)
        size: int | None = st.st_size
    except OSError:
        fingerprint = size = None
    return _Item(
        display=str(path),
        path=str(path),
        reader=reader,
        fingerprint=fingerprint,
        explicit=explicit,
        size=size,
    )


def _enumerate(
    paths: Sequence[Path], result: ImportResult, ctx: _ZipContext, known: _KnownMap
) -> Iterator[_Item | _Known]:
    """The candidate items of ``paths``; a file (or zip member) that the source cache ``known`` maps
    to a stored activity is yielded as :class:`_Known` before its first bytes are read (a re-import
    of an unchanged archive reads no file)."""
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            path_stat = path.stat()
        except FileNotFoundError:
            result.failed.append((str(path), "no such file or directory"))
            continue
        except OSError as exc:
            result.failed.append((str(path), _describe(exc)))
            continue
        if path.is_dir():
            for root, dirs, files in os.walk(
                path,
                onerror=lambda e: result.failed.append(
                    (str(e.filename), f"cannot list folder: {e.strerror}")
                ),
            ):
                dirs.sort()
                whole = archive_reader(sorted(files))  # an unzipped export: taken as one, not walked
                if whole is not None:
                    dirs[:] = []
                    taker: Reader[Any] = whole
                    for name in sorted(files):
                        p = Path(root) / name
                        if p.is_file() and _file_reader(p) is taker:
                            yield _file_item(p, taker, explicit=False)
                    continue
                for name in sorted(files):
                    p = Path(root) / name
                    if is_companion(name):
                        continue  # read together with its data file
                    try:
                        st: os.stat_result | None = p.stat()
                    except OSError:
                        st = None
                    if st is None or not stat.S_ISREG(st.st_mode):  # a FIFO or device would block
                        result.ignored.append(str(p))
                        continue
                    sha = known.get((_source_key(str(p), str(p)), _fingerprint(st)))
                    if sha is not None:
                        yield _Known(str(p), sha)
                        continue
                    reader = _file_reader(p)
                    if reader is None and _is_zip(name):
                        yield from _zip_items(p, str(p), result, ctx, known)
                    elif reader is not None:
                        yield _file_item(p, reader, explicit=False, st=st)
                    else:
                        result.ignored.append(str(p))
        elif not path.is_file():
            result.failed.append((str(path), "not a regular file (a pipe, socket or device)"))
        else:
            sha = known.get((_source_key(str(path), str(path)), _fingerprint(path_stat)))
            if sha is not None:
                yield _Known(str(path), sha)
                continue
            reader = _file_reader(path)
            if reader is None and _is_zip(path.name):
                yield from _zip_items(path, str(path), result, ctx, known)
            elif reader is None:
                result.failed.append((str(path), unsupported(str(path)).reason))
            else:
                yield _file_item(path, reader, explicit=True)


# ---------------------------------------------------------------------------- worker side
#: zips a process keeps open between the members it reads: an account export's part holds thousands
#: of members, and opening the zip per member re-reads its whole directory (quadratic in members)
_OPEN_ZIPS_MAX = 4
_open_zips: OrderedDict[tuple[str, int, int, int], zipfile.ZipFile] = OrderedDict()
_open_zips_lock = threading.Lock()


def _read_zip_member(zip_path: str, member: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """One member's bytes (bounded), from a zip kept open while it is the same file (path, inode,
    size and mtime)."""
    st = os.stat(zip_path)
    key = (zip_path, st.st_ino, st.st_size, st.st_mtime_ns)
    with _open_zips_lock:
        zf = _open_zips.get(key)
        if zf is None:
            zf = _open_zips[key] = zipfile.ZipFile(zip_path)
            while len(_open_zips) > _OPEN_ZIPS_MAX:
                _open_zips.popitem(last=False)[1].close()
        else:
            _open_zips.move_to_end(key)
        return read_limited(zf.open(member), limit)


def _close_open_zips() -> None:
    """Close the zips kept open by :func:`_read_zip_member` (the end of an in-process import)."""
    with _open_zips_lock:
        while _open_zips:
            _open_zips.popitem()[1].close()


def _load_bytes(item: _Item) -> bytes:
    limit = _decode_limit(item)
    try:
        if item.member is not None:
            data = _read_zip_member(item.zip_file or item.path, item.member, limit)
        else:
            with open(item.path, "rb") as fh:
                data = read_limited(fh, limit)
        name = (item.member or item.path).lower()
        if name.endswith(".gz") or data[:2] == b"\x1f\x8b":
            data = gunzip_limited(data, limit)
    except FitDecodeError as exc:  # more content than its metadata said: the budget, not the format
        if limit < MAX_FILE_BYTES and exc.reason.startswith("refused: more than"):
            raise _over_budget(item, limit + 1) from None
        raise
    return data


#: the memory budget of this process's decodes (set by :func:`import_paths` and in pool workers)
_memory_budget: int = DEFAULT_MEMORY_BUDGET_BYTES


def _over_budget(item: _Item, content_bytes: int) -> MemoryBudgetError:
    estimate = BASE_RSS_BYTES + estimate_decode_bytes(item.reader.name, content_bytes)
    return MemoryBudgetError(item.label or item.display, content_bytes, estimate, _memory_budget)


def _decode_limit(item: _Item) -> int:
    """The most content bytes ``item`` may expand to within the memory budget; raises
    :class:`MemoryBudgetError` when its metadata (size, zip directory, gzip trailer, FIT header)
    already says more, before anything is read."""
    budget_limit = max_decodable_bytes(item.reader.name, _memory_budget)
    try:
        size = item.size if item.member is not None else content_size(item.path)
    except OSError:
        size = None
    if size is not None and size > budget_limit and budget_limit < MAX_FILE_BYTES:
        raise _over_budget(item, size)
    return min(MAX_FILE_BYTES, budget_limit)  # beyond MAX_FILE_BYTES the bomb guard refuses the read


def _worker_init(parent_pid: int, memory_budget: int, queue: Any) -> None:
    """A pool worker's first act: exit with its parent (:func:`stridelab.procs.follow_parent`, armed
    already on ``import stridelab`` when spawned inside ``children_follow``), take the import's
    memory budget, and send file progress to the parent through ``queue`` (None: not asked for)."""
    global _memory_budget
    follow_parent(parent_pid)
    _memory_budget = memory_budget
    _init_worker(queue)


@dataclass(frozen=True, slots=True)
class _Outcome:
    display: str
    status: str  # imported | skipped | failed | not_activity
    sha256: str | None = None
    error: str | None = None
    prepared: PreparedActivity | None = None
    fingerprint: str | None = None
    key: str | None = None
    self_committed: bool = False  # stored by its own engine (IMU recordings)
    warnings: tuple[str, ...] = ()  # faults of a damaged file
    notes: tuple[str, ...] = ()  # remarks on a sound file


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied (cannot read the file)"
    if isinstance(exc, OSError):
        if exc.errno in (28, 27):  # ENOSPC, EFBIG
            return "disk full; nothing was stored for this file"
        return f"I/O error: {exc.strerror or exc}"
    if isinstance(exc, FitDecodeError):
        return exc.reason + (f" at byte {exc.offset}" if exc.offset is not None else "")
    reason = getattr(exc, "reason", None)  # a reader's own error says why in one line
    if isinstance(reason, str) and reason:
        return reason
    return f"{type(exc).__name__}: {exc}"


def _process(store_root: str, athlete: str, item: _Item) -> list[_Outcome]:
    """Read, hash, decode and write one item. Runs in a worker process.

    Routed by what the item's reader produces (:data:`_ROUTES`): one route per model container. A file
    that holds several activities (``reader.multi``) gives one outcome per activity."""
    route = _ROUTES.get(item.reader.produces)
    if route is None:
        return [_Outcome(item.display, "failed", error=f"{item.reader!r} reads nothing the store keeps")]
    return route(store_root, athlete, item)


#: the store handle of this process per store root: a worker opens the store (and its SQLite
#: connection, per thread) once, not once per file
_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def _worker_store(store_root: str) -> Store:
    with _stores_lock:
        store = _stores.get(store_root)
        if store is None:
            store = _stores[store_root] = Store(Path(store_root))
        return store


def _close_worker_stores() -> None:
    """Close this thread's catalog connections of the cached stores (the end of an in-process import)."""
    with _stores_lock:
        for store in _stores.values():
            store.close()
        _stores.clear()


def _process_activity(store_root: str, athlete: str, item: _Item) -> list[_Outcome]:
    """An activity: bytes hashed (the id), skipped when stored, else read and its stream written (the
    catalog rows wait for the parent's batch commit). A multi-activity file is read in full, each of
    its activities skipped when stored or prepared."""
    try:
        store = _worker_store(store_root)
        name = item.label or item.display
        if item.reader.multi and item.reader.streams:  # larger than memory: streamed
            if item.member is None:
                return _process_activities(store, athlete, item, Path(item.path), name)
            with zipfile.ZipFile(item.zip_file or item.path) as outer, outer.open(item.member) as stream:
                return _process_activities(store, athlete, item, stream, name)
        data = _load_bytes(item)
        if item.reader.multi:
            return _process_activities(store, athlete, item, data, name)
        sha = hashlib.sha256(data).hexdigest()
        if store.has_activity(athlete, sha):
            return [_Outcome(item.display, "skipped", sha, fingerprint=item.fingerprint, key=item.key)]
        # a reader whose id is the content hash takes ours (hashed once per file)
        options = {"sha256": sha} if item.reader.content_id else {}
        activity = item.reader.read(data, name=name, **options)
        return [_prepared_outcome(store, athlete, item, _check_activity(item, activity), item.display)]
    except Exception as exc:
        return [_error_outcome(item.display, exc)]


def _error_outcome(display: str, exc: Exception) -> _Outcome:
    """A file that gave no activity: skipped when it holds none by design (:class:`NotAnActivityError`,
    from any reader), else failed with the reason."""
    if isinstance(exc, NotAnActivityError):
        return _Outcome(display, "not_activity", error=exc.reason)
    return _Outcome(display, "failed", error=_describe(exc))


def _check_activity(item: _Item, result: object) -> Activity:
    if not isinstance(result, Activity):
        raise TypeError(f"{item.reader!r} returned a {type(result).__name__}, not an Activity")
    return apply_metadata(result, item.export_meta)


def _prepared_outcome(
    store: Store, athlete: str, item: _Item, activity: Activity, display: str, *, source: bool = True
) -> _Outcome:
    # not fsynced here: the parent syncs each batch's streams before committing their rows
    prepared = prepare_activity(store, athlete, activity, durable=False)
    return _Outcome(
        display,
        "imported",
        activity.id,
        prepared=prepared,
        fingerprint=item.fingerprint if source else None,
        key=item.key if source else None,
        warnings=activity.problems,
        notes=activity.notes,
    )


def _process_activities(
    store: Store, athlete: str, item: _Item, data: bytes | Path | IO[bytes], name: str
) -> list[_Outcome]:
    """Every activity of a multi-activity file (``display#1``, ``display#2``, ... when several). The
    source cache row goes with the first one (it marks the whole file as seen). Other results (the
    daily walking gait of an Apple Health export, :data:`_EXTRAS`) are stored in the worker."""
    out: list[_Outcome] = []
    extras: list[str] = []
    options: dict[str, Any] = {}
    report = _FILE_PROGRESS
    if item.reader.streams and report is not None:
        options["progress"] = lambda done, total: report(item.display, done, total)
    source: Any = data  # an open stream only for a streaming reader (an export.zip inside a zip)
    for result in item.reader.read_all(source, name=name, **options):
        extra = _EXTRAS.get(type(result))
        if extra is not None:
            extras.append(extra(store, athlete, result))
            continue
        activity = _check_activity(item, result)
        display = f"{item.display}#{len(out) + 1}"
        first = not out
        if store.has_activity(athlete, activity.id):
            out.append(
                _Outcome(
                    display,
                    "skipped",
                    activity.id,
                    fingerprint=item.fingerprint if first else None,
                    key=item.key if first else None,
                )
            )
        else:
            out.append(_prepared_outcome(store, athlete, item, activity, display, source=first))
    if not out and extras:  # e.g. an export with walking metrics and no workout
        digest = hashlib.sha256("\n".join(extras).encode()).hexdigest()
        return [_Outcome(item.display, "imported", digest, self_committed=True)]
    if not out:
        raise ValueError("no activity in the file")
    if extras:
        out[0] = dataclasses.replace(out[0], notes=(*out[0].notes, *extras))
    if len(out) == 1:  # one activity: reported under the file's own name
        out[0] = dataclasses.replace(out[0], display=item.display)
    return out


def _store_daily_gait(store: Store, athlete: str, result: object) -> str:
    assert isinstance(result, DailyGaitMetrics)
    changed = health_store.write_daily_gait(store, athlete, result)
    days = len({v.day for v in result.values})
    return f"daily walking gait: {len(result.values)} value(s) over {days} day(s), {changed} new or changed"


#: results other than activities that a multi-result reader yields, and how each is stored
_EXTRAS: dict[type, Callable[[Store, str, object], str]] = {DailyGaitMetrics: _store_daily_gait}


def _process_recording(store_root: str, athlete: str, item: _Item) -> list[_Outcome]:
    """An IMU recording (a data file with its sidecar): analysed and stored by the IMU service (own
    transaction)."""
    from stridelab.services import imu  # lazy: the gait engine (scipy, ahrs) is heavy to import

    try:
        if item.member is not None:
            raise ValueError("an IMU recording is read from a folder, not from inside a zip archive")
        done = imu.import_recording(Store(Path(store_root)), athlete, item.path, reader=item.reader)
        return [
            _Outcome(item.display, "imported" if done.imported else "skipped", done.id, self_committed=True)
        ]
    except Exception as exc:
        return [_error_outcome(item.display, exc)]


#: how each kind of reader result is imported
_ROUTES: dict[type, Callable[[str, str, _Item], list[_Outcome]]] = {
    Activity: _process_activity,
    ImuRecording: _process_recording,
}


# ---------------------------------------------------------------------------- parent side
class _Committer:
    """Batches catalog commits (each activity's rows land in one transaction, never half)."""

    def __init__(
        self, store: Store, result: ImportResult, max_batch: int = 64, max_age_s: float = 0.5
    ) -> None:
        self.store = store
        self.result = result
        self.pending: list[_Outcome] = []
        self.max_batch = max_batch
        self.max_age_s = max_age_s
        self.oldest = 0.0

    def add(self, outcome: _Outcome) -> None:
        if outcome.status == "failed":
            self.result.failed.append((outcome.display, outcome.error or "unknown error"))
            return
        if outcome.status == "not_activity":
            self.result.not_activities.append((outcome.display, outcome.error or "not an activity"))
            return
        if outcome.self_committed:
            assert outcome.sha256 is not None
            target = self.result.imported if outcome.status == "imported" else self.result.skipped
            target.append((outcome.display, outcome.sha256))
            return
        if not self.pending:
            self.oldest = time.monotonic()
        self.pending.append(outcome)
        if len(self.pending) >= self.max_batch or time.monotonic() - self.oldest > self.max_age_s:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        rows = [
            (
                o.prepared,
                SourceRow(o.key, o.fingerprint, o.sha256) if o.fingerprint and o.sha256 and o.key else None,
            )
            for o in batch
        ]
        try:
            added = commit_batch(self.store, rows)
        except Exception as exc:  # e.g. disk full: the whole batch rolled back, nothing half-written
            for o in batch:
                self.result.failed.append((o.display, f"catalog write failed: {_describe(exc)}"))
            return
        for o, was_added in zip(batch, added, strict=True):
            assert o.sha256 is not None
            if was_added:
                self.result.imported.append((o.display, o.sha256))
                if o.warnings:
                    self.result.warnings.append((o.display, "; ".join(o.warnings)))
                if o.notes:
                    self.result.notes.append((o.display, "; ".join(o.notes)))
            else:
                self.result.skipped.append((o.display, o.sha256))


def import_paths(
    store: Store,
    paths: Iterable[Path | str],
    *,
    athlete: str = "me",
    workers: int | None = None,
    progress: ProgressFn | None = None,
    relabel: tuple[str, str] | None = None,
    keep_duplicates: bool = False,
    file_progress: FileProgressFn | None = None,
    memory_budget: int | None = None,
) -> ImportResult:
    """Import FIT files, folders (recursive), zip exports and ``.fit.gz`` into ``store``.

    ``memory_budget``: peak resident bytes each import process may reach (default
    ``$STRIDELAB_MAX_MEMORY_MB``, else 600 MB; :mod:`stridelab.services.memory`): a file whose decode
    would exceed it is refused (failed, with the reason), never decoded.

    ``relabel=(old_prefix, new_prefix)`` reports and stores paths under ``old_prefix`` with
    ``new_prefix`` instead (e.g. an upload's temporary folder -> ``"upload/"``).

    ``workers``: processes for decoding (default: the number of cores; 1 decodes in-process, and so
    does an import with less than :data:`IN_PROCESS_BYTES` to decode, where starting the pool would
    cost more than it saves). ``progress(done, total, path)`` is called after each item;
    ``file_progress(path, done_bytes, total_bytes)`` while a large streamed file is read (an Apple
    Health export: bytes of its export.xml over both passes), in this process, whichever reads it.
    Nested zips are extracted to a temporary directory that is removed before returning.
    Raises :class:`~stridelab.store.StoreError` for an invalid ``athlete`` name, before reading anything.
    After the commits, the imported activities are linked to the same activities from other sources
    (:func:`stridelab.services.duplicates.link_imported`; ``keep_duplicates`` turns that off).
    """
    global _memory_budget
    check_athlete(athlete)
    budget = check_budget(memory_budget) if memory_budget is not None else budget_from_env()
    before, _memory_budget = _memory_budget, budget
    # the local-time checks table exists before the commits: each new FIT run is marked checked in
    # its own transaction (stridelab.store.activities.commit_prepared), never seen as waiting
    from stridelab.store.offsets import ensure_offsets_schema

    ensure_offsets_schema(store)
    with tempfile.TemporaryDirectory(prefix="stridelab-import-") as spill:
        try:
            result = _import(
                store, paths, athlete, workers, progress, _ZipContext(Path(spill)), relabel, file_progress
            )
        finally:
            _close_open_zips()  # before the nested zips in ``spill`` are removed
            _close_worker_stores()
            _memory_budget = before
    if result.imported:
        # lazy: the duplicates decision pulls the analysis package (scipy), which the decoding
        # workers (spawned processes that import this module) and a re-import never need
        from stridelab.services.duplicates import link_imported

        try:
            link_imported(store, athlete, result.imported, keep=keep_duplicates)
        except Exception as exc:  # the activities are committed: report, never lose the import's result
            result.link_warning = (
                f"the {len(result.imported)} imported activities were not linked to their duplicates from "
                f"other sources ({_describe(exc)}); they are stored and listed on their own"
            )
    _backfill_local_time(store, athlete, result)
    if relabel is None:  # an upload's temporary folder is gone once it ends: nothing to retry there
        _remember_failures(store, athlete, result)
    if relabel is not None:
        result.relabel(*relabel)
    return result


def _backfill_local_time(store: Store, athlete: str, result: ImportResult) -> None:
    """Runs imported before the decoder kept the file's UTC offset gain it from their files, once
    (:mod:`stridelab.services.local_time`); the runs just imported are marked as looked at. Best
    effort: a failure is a note, never a failed import (the imported activities are committed)."""
    from stridelab.services.local_time import backfill_utc_offsets, mark_checked

    try:
        mark_checked(store, athlete, [activity_id for _path, activity_id in result.imported])
        backfill_utc_offsets(store, athlete)
    except Exception as exc:
        result.notes.append(
            ("(store)", f"older runs' local time not read from their files: {_describe(exc)}")
        )


def _remember_failures(store: Store, athlete: str, result: ImportResult) -> None:
    """Keep the files that failed (``stridelab doctor`` retries them after a decoder upgrade) and
    forget those that now imported. Best effort: a store that cannot take it (read-only) is no
    reason to fail an import."""
    failed = [(failure_key(p), reason) for p, reason in result.failed if os.path.exists(p.partition("!")[0])]
    done = sorted({failure_key(p) for p, _ in (*result.imported, *result.skipped)})
    try:
        record_failures(store, athlete, failed, DECODER_VERSION)
        clear_failure(store, athlete, done)
    except Exception:  # sqlite3.Error, StoreError: the import itself succeeded
        pass


def _import(
    store: Store,
    paths: Iterable[Path | str],
    athlete: str,
    workers: int | None,
    progress: ProgressFn | None,
    ctx: _ZipContext,
    relabel: tuple[str, str] | None = None,
    file_progress: FileProgressFn | None = None,
) -> ImportResult:
    global _FILE_PROGRESS
    t0 = time.perf_counter()
    result = ImportResult()
    known = known_fingerprints(store, athlete)  # first: known files are skipped unread
    items = list(_enumerate([Path(p) for p in paths], result, ctx, known))
    if relabel is not None:
        items = [
            dataclasses.replace(i, label=_relabel(i.display, *relabel)) if isinstance(i, _Item) else i
            for i in items
        ]
    total = len(items)
    committer = _Committer(store, result)
    todo: list[_Item] = []
    done = 0
    for item in items:
        sha = item.sha256 if isinstance(item, _Known) else known.get((item.key, item.fingerprint or ""))
        if sha is not None:
            result.skipped.append((item.display, sha))
            done += 1
            if progress:
                progress(done, total, item.display)
        else:
            assert isinstance(item, _Item)
            todo.append(item)

    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    todo_bytes = sum(item.size if item.size is not None else MAX_FILE_BYTES for item in todo)
    if n_workers <= 1 or len(todo) <= 2 or todo_bytes < IN_PROCESS_BYTES:
        _FILE_PROGRESS = file_progress
        try:
            for item in todo:
                for outcome in _process(str(store.root), athlete, item):
                    committer.add(outcome)
                done += 1
                if progress:
                    progress(done, total, item.display)
        finally:
            _FILE_PROGRESS = None
    else:
        import multiprocessing as mp
        import queue as queue_mod

        spawn = mp.get_context("spawn")
        reports = spawn.Queue() if file_progress is not None else None

        def _drain() -> None:
            while reports is not None and file_progress is not None:
                try:
                    path, got, of = reports.get_nowait()
                except queue_mod.Empty:
                    return
                file_progress(path, got, of)

        with (
            children_follow(),
            ProcessPoolExecutor(
                max_workers=n_workers,
                mp_context=spawn,
                initializer=_worker_init,
                initargs=(os.getpid(), _memory_budget, reports),
            ) as pool,
        ):
            pending: set[Future[list[_Outcome]]] = set()
            queue = iter(todo)
            # enough queued that the workers keep decoding while this process syncs and commits a
            # batch (an fsync per stream: a batch of 64 takes ~0.2 s, ~3x what 4 tasks per worker hold)
            in_flight = 4 * n_workers + committer.max_batch

            def _fill() -> None:
                while len(pending) < in_flight:
                    nxt = next(queue, None)
                    if nxt is None:
                        return
                    pending.add(pool.submit(_process, str(store.root), athlete, nxt))

            _fill()
            while pending:
                finished, pending = wait(
                    pending, timeout=0.25 if reports is not None else None, return_when=FIRST_COMPLETED
                )
                _drain()
                for fut in finished:
                    outcomes = fut.result()
                    for outcome in outcomes:
                        committer.add(outcome)
                    done += 1
                    if progress:
                        progress(done, total, outcomes[0].display)
                _fill()
        _drain()
        if reports is not None:
            reports.close()
    committer.flush()
    checkpoint(store)
    result.seconds = time.perf_counter() - t0
    return result
