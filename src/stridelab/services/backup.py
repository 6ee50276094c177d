"""Backups of a store (``stridelab backup PATH`` / ``stridelab restore PATH``).

A backup is a folder: ``catalog.sqlite`` (a consistent snapshot taken with SQLite's online backup
API, so the dashboard or an import may keep writing meanwhile), the stream files that snapshot points
to (``streams/...``, copied as they are: a stream never changes once renamed into place), and
``manifest.json`` with the sha256 and size of every file. The folder is built beside the target
under a temporary name and renamed into place when complete: a backup folder that exists is whole.

A restore first verifies the backup (every checksum, SQLite's integrity and foreign-key checks, the
row count of every stream), then builds the restored store beside the target under a temporary name,
verifies the copy again, and swaps it in with one atomic rename (Linux ``renameat2`` exchange; two
renames elsewhere): at every instant the target is the old store or the new one, never a mix. A
target that holds a store (or anything) is replaced only with ``force``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stridelab.store import Store, StoreError
from stridelab.store.maintenance import (
    CATALOG_FILE,
    StreamRef,
    catalog_file_problems,
    copy_verified,
    file_sha256,
    read_manifest,
    snapshot_catalog,
    write_manifest,
)
from stridelab.version import DECODER_VERSION, __version__

__all__ = ["BackupResult", "RestoreResult", "backup_store", "restore_store", "verify_backup"]

#: the layout version of a backup folder
BACKUP_FORMAT_VERSION = 1
#: snapshots retried when a stream of the snapshot vanished before it was copied (a run deleted meanwhile)
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    runs: int
    streams: int
    bytes: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "runs": self.runs,
            "streams": self.streams,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class RestoreResult:
    path: Path
    runs: int
    streams: int
    replaced: bool  # a non-empty target was replaced (--force)
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "store": str(self.path),
            "runs": self.runs,
            "streams": self.streams,
            "replaced": self.replaced,
            "seconds": round(self.seconds, 3),
        }


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and next(path.iterdir(), None) is None


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _staging(target: Path, what: str) -> Path:
    staging = target.parent / f".{target.name}.{what}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def backup_store(store: Store, target: Path | str) -> BackupResult:
    """Write a consistent backup of ``store`` to the folder ``target`` (which must not exist or be
    empty). Raises :class:`StoreError` with the reason when it cannot."""
    t0 = time.perf_counter()
    target = Path(target).expanduser().absolute()
    if target.exists() and not _is_empty_dir(target):
        raise StoreError(f"Cannot back up to {target}: it exists and is not an empty folder")
    if target == store.root or store.root in target.parents:
        raise StoreError(f"Cannot back up to {target}: it is inside the store {store.root}")
    try:
        staging = _staging(target, "partial")
    except OSError as exc:
        raise StoreError(f"Cannot create {target}: {exc.strerror or exc}") from exc
    try:
        entries, refs = _snapshot(store, staging)
        catalog = staging / CATALOG_FILE
        catalog_bytes = catalog.stat().st_size
        runs = sum(1 for r in refs if r.kind == "records")
        manifest = {
            "format": "stridelab-backup",
            "format_version": BACKUP_FORMAT_VERSION,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "stridelab_version": __version__,
            "decoder_version": DECODER_VERSION,
            "source": str(store.root),
            "catalog": {"path": CATALOG_FILE, "sha256": file_sha256(catalog), "bytes": catalog_bytes},
            "streams": entries,
            "runs": runs,
        }
        write_manifest(staging, manifest)
        _fsync_dir(staging)
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.rename(staging, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum(int(e["bytes"]) for e in entries.values()) + catalog_bytes
    return BackupResult(target, runs, len(entries), size, time.perf_counter() - t0)


def _snapshot(store: Store, staging: Path) -> tuple[dict[str, dict[str, Any]], dict[StreamRef, int | None]]:
    """The catalog snapshot and a copy of each stream it points to (retried when a stream vanished,
    or changed, between the snapshot and its copy)."""
    problem = ""
    for _ in range(_ATTEMPTS):
        shutil.rmtree(staging / "streams", ignore_errors=True)
        (staging / CATALOG_FILE).unlink(missing_ok=True)
        refs = snapshot_catalog(store, staging / CATALOG_FILE)
        entries: dict[str, dict[str, Any]] = {}
        problem = ""
        for ref in sorted(refs):
            try:
                sha, size = copy_verified(store.root / ref.relpath, staging / ref.relpath)
            except FileNotFoundError:
                problem = f"stream {ref.relpath} is missing"
                break
            except OSError as exc:
                raise StoreError(f"Cannot copy {ref.relpath}: {exc.strerror or exc}") from exc
            entries[ref.relpath] = {"sha256": sha, "bytes": size}
        if not problem:
            return entries, refs
        if not (store.root / CATALOG_FILE).exists():
            break
    raise StoreError(f"Cannot back up {store.root}: {problem} (run stridelab doctor)")


def verify_backup(folder: Path | str) -> dict[str, Any]:
    """The manifest of the backup ``folder`` once every file matches its checksum and the catalog
    passes SQLite's integrity and foreign-key checks; :class:`StoreError` listing what does not."""
    folder = Path(folder).expanduser().absolute()
    if not folder.is_dir():
        raise StoreError(f"{folder} is not a backup folder")
    manifest = read_manifest(folder)
    if int(manifest.get("format_version", 0)) > BACKUP_FORMAT_VERSION:
        raise StoreError(f"{folder} was written by a newer stridelab; upgrade to restore it")
    problems: list[str] = []
    files = {CATALOG_FILE: manifest["catalog"], **manifest.get("streams", {})}
    for rel, entry in sorted(files.items()):
        path = folder / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            problems.append(f"{rel}: not a path inside the backup")
            continue
        try:
            if path.stat().st_size != int(entry["bytes"]) or file_sha256(path) != entry["sha256"]:
                problems.append(f"{rel}: checksum mismatch (damaged)")
        except FileNotFoundError:
            problems.append(f"{rel}: missing")
    if not problems:
        problems += [f"catalog: {p}" for p in catalog_file_problems(folder / CATALOG_FILE)]
    if problems:
        shown = "; ".join(problems[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise StoreError(f"Backup {folder} does not verify: {shown}")
    return manifest


def restore_store(backup: Path | str, target: Path | str, *, force: bool = False) -> RestoreResult:
    """Restore the backup folder ``backup`` as the store ``target`` (verified before and after the
    copy; swapped in atomically). A non-empty ``target`` is replaced only with ``force``."""
    t0 = time.perf_counter()
    backup = Path(backup).expanduser().absolute()
    target = Path(target).expanduser().absolute()
    manifest = verify_backup(backup)
    occupied = target.exists() and not _is_empty_dir(target)
    if target.exists() and not target.is_dir():
        raise StoreError(f"Cannot restore to {target}: it is a file")
    if occupied and not force:
        raise StoreError(
            f"Cannot restore to {target}: it is not empty (a store is there); "
            "pass --force to replace it (nothing was changed)"
        )
    try:
        staging = _staging(target, "restore")
    except OSError as exc:
        raise StoreError(f"Cannot create {target}: {exc.strerror or exc}") from exc
    try:
        files = {CATALOG_FILE: manifest["catalog"], **manifest.get("streams", {})}
        for rel, entry in files.items():
            sha, _ = copy_verified(backup / rel, staging / rel)
            if sha != entry["sha256"]:
                raise StoreError(f"{backup / rel} changed while it was restored")
        problems = catalog_file_problems(staging / CATALOG_FILE)
        if problems:
            raise StoreError(f"the restored catalog does not verify: {'; '.join(problems[:3])}")
        _fsync_dir(staging)
        _swap_in(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise StoreError(f"Cannot restore to {target}: {exc.strerror or exc} (nothing was changed)") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return RestoreResult(
        target,
        int(manifest.get("runs", 0)),
        len(manifest.get("streams", {})),
        occupied,
        time.perf_counter() - t0,
    )


def _swap_in(staging: Path, target: Path) -> None:
    """Make ``staging`` the folder at ``target`` in one step; the old folder (if any) is removed."""
    if not target.exists():
        os.rename(staging, target)
    elif _is_empty_dir(target):
        os.replace(staging, target)  # POSIX: a folder replaces an empty folder atomically
    elif _exchange(staging, target):
        shutil.rmtree(staging)  # now holds the old store
    else:  # no atomic exchange here: move the old store aside first (it stays whole), then swap
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.rename(target, old)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(old, target)
            raise
        shutil.rmtree(old)
    _fsync_dir(target.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False when unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))
