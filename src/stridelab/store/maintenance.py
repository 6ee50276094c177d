"""The maintenance repository: the store's health (catalog and stream integrity), its leftovers
(temporary and orphan stream files), the runs and failed files to derive again after an upgrade, and
the consistent snapshot and verified copy behind ``stridelab backup`` / ``restore``.

Streams are immutable once renamed into place, and a stream is always written before the catalog
row that points to it (see :mod:`stridelab.store._store`): so a *temporary* file (``.<key>.*.tmp``)
is a write that was interrupted, and a stream no catalog row points to is an orphan -- unless it was
written moments ago by an import whose commit is on its way. Every removal therefore spares files
younger than ``min_age_s``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from stridelab.lazy import lazy_module
from stridelab.store._store import Store, StoreError
from stridelab.store.activities import PreparedActivity

if TYPE_CHECKING:
    import pyarrow.parquet as pq
else:
    pq = lazy_module("pyarrow.parquet")

__all__ = [
    "CATALOG_FILE",
    "MANIFEST_FILE",
    "SWEEP_AGE_S",
    "FailedFile",
    "StreamRef",
    "catalog_file_problems",
    "catalog_problems",
    "clear_failure",
    "copy_verified",
    "failed_files",
    "file_sha256",
    "leftover_files",
    "outdated_runs",
    "read_manifest",
    "record_failures",
    "referenced_streams",
    "replace_derived",
    "run_count",
    "snapshot_catalog",
    "source_keys",
    "stream_problems",
    "sweep",
    "write_manifest",
]

CATALOG_FILE: Final[str] = "catalog.sqlite"
MANIFEST_FILE: Final[str] = "manifest.json"
#: files younger than this are never removed as leftovers (a concurrent import may commit them yet)
SWEEP_AGE_S: Final[float] = 600.0
#: the cheap sweep of ``Store.open`` runs at most this often per store
_SWEEP_EVERY_S: Final[float] = 3600.0
_SWEEP_MARKER: Final[str] = ".last-sweep"

#: stream kind -> the catalog table whose (athlete, id) rows own those streams
_OWNERS: Final[dict[str, str]] = {
    "records": "activities",
    "imu_steps": "imu_recordings",
    "imu_strides": "imu_recordings",
    "imu_events": "imu_recordings",
}


@dataclass(frozen=True, slots=True, order=True)
class StreamRef:
    """One stream file: ``streams/<kind>/<athlete>/<key>.parquet``."""

    kind: str
    athlete: str
    key: str

    @property
    def relpath(self) -> str:
        return f"streams/{self.kind}/{self.athlete}/{self.key}.parquet"


@dataclass(frozen=True, slots=True)
class FailedFile:
    """A file an import could not read, with the decoder version that failed on it."""

    athlete: str
    path: str
    reason: str
    decoder_version: int


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def referenced_streams(conn: sqlite3.Connection) -> dict[StreamRef, int | None]:
    """Every stream the catalog (``conn``) points to, with its expected row count when the catalog
    knows it (the record streams: ``activities.n_records``)."""
    tables = _tables(conn)
    out: dict[StreamRef, int | None] = {}
    for athlete, key, n in conn.execute("SELECT athlete, id, n_records FROM activities"):
        out[StreamRef("records", athlete, key)] = int(n)
    if "imu_recordings" in tables:
        for athlete, key in conn.execute("SELECT athlete, id FROM imu_recordings"):
            for kind, owner in _OWNERS.items():
                if owner == "imu_recordings":
                    out[StreamRef(kind, athlete, key)] = None
    return out


def _stream_files(root: Path) -> Iterator[tuple[str, str, Path]]:
    """(kind, athlete, file) of every file under ``root/streams/<kind>/<athlete>/``."""
    base = root / "streams"
    if not base.is_dir():
        return
    for kind_dir in sorted(base.iterdir()):
        if not kind_dir.is_dir():
            continue
        for athlete_dir in sorted(kind_dir.iterdir()):
            if not athlete_dir.is_dir():
                continue
            for f in sorted(athlete_dir.iterdir()):
                yield kind_dir.name, athlete_dir.name, f


def _age_s(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except OSError:
        return 0.0


def leftover_files(store: Store, *, min_age_s: float = SWEEP_AGE_S) -> tuple[list[Path], list[Path]]:
    """``(temporary, orphan)`` files older than ``min_age_s``: interrupted stream writes
    (``.<key>.*.tmp``) and streams of a known kind that no catalog row points to. Streams of kinds
    this version does not know are left alone."""
    known = referenced_streams(store.connect())
    now = time.time()
    temps: list[Path] = []
    orphans: list[Path] = []
    for kind, athlete, f in _stream_files(store.root):
        if f.name.startswith(".") and f.name.endswith(".tmp"):
            if _age_s(f, now) >= min_age_s:
                temps.append(f)
        elif (
            f.suffix == ".parquet"
            and kind in _OWNERS
            and StreamRef(kind, athlete, f.stem) not in known
            and _age_s(f, now) >= min_age_s
        ):
            orphans.append(f)
    return temps, orphans


def sweep(store: Store, *, force: bool = False, min_age_s: float = SWEEP_AGE_S) -> list[Path]:
    """Remove the leftover files (:func:`leftover_files`); the removed paths. Unless ``force``, at
    most once per hour per store (a marker file's time), so that opening a store stays cheap. Never
    raises for a file it cannot remove (a read-only store is swept by nobody)."""
    marker = store.root / "streams" / _SWEEP_MARKER
    if not force:
        try:
            if time.time() - marker.stat().st_mtime < _SWEEP_EVERY_S:
                return []
        except FileNotFoundError:
            pass
        except OSError:
            return []
    removed: list[Path] = []
    try:
        temps, orphans = leftover_files(store, min_age_s=min_age_s)
        for f in (*temps, *orphans):
            with contextlib.suppress(OSError):
                f.unlink()
                removed.append(f)
        marker.touch()
    except (OSError, sqlite3.Error):
        pass
    return removed


def catalog_problems(conn: sqlite3.Connection) -> list[str]:
    """What SQLite finds wrong with a catalog: ``PRAGMA integrity_check`` (pages, indexes) and
    ``PRAGMA foreign_key_check`` (rows pointing at a missing parent). Empty when healthy."""
    problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check") if str(r[0]) != "ok"]
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} row {rowid} points to a missing {parent} row")
    return problems


def run_count(store: Store) -> int:
    """Runs in the catalog (every athlete, duplicates included)."""
    return int(store.connect().execute("SELECT count(*) FROM activities").fetchone()[0])


def stream_problems(store: Store) -> list[tuple[StreamRef, str]]:
    """Streams the catalog points to that are missing, unreadable, or whose row count differs from
    the catalog's (Parquet footers only: no data page is read)."""
    out: list[tuple[StreamRef, str]] = []
    for ref, expected in sorted(referenced_streams(store.connect()).items()):
        path = store.root / ref.relpath
        if not path.exists():
            out.append((ref, "stream file missing"))
            continue
        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except Exception as exc:  # any damage pyarrow reports
            out.append((ref, f"unreadable Parquet: {exc}"))
            continue
        if expected is not None and rows != expected:
            out.append((ref, f"{rows} rows, the catalog says {expected}"))
    return out


# ---------------------------------------------------------------------------- derivation versions
def outdated_runs(store: Store, version: int) -> list[tuple[str, str, list[str]]]:
    """``(athlete, id, source keys)`` of the runs derived by a decoder older than ``version``; the
    keys are where the source cache saw the run's file (absolute path, or ``zip!member``)."""
    conn = store.connect()
    rows = conn.execute(
        "SELECT athlete, id FROM activities WHERE decoder_version < ? ORDER BY athlete, start_time",
        (version,),
    ).fetchall()
    return [
        (str(athlete), str(activity_id), source_keys(store, activity_id)) for athlete, activity_id in rows
    ]


def source_keys(store: Store, activity_id: str) -> list[str]:
    """Where the source cache saw the file of run ``activity_id`` (absolute paths, ``zip!member``)."""
    rows = store.connect().execute("SELECT path FROM sources WHERE sha256 = ? ORDER BY path", (activity_id,))
    return [str(r[0]) for r in rows]


def replace_derived(store: Store, prepared: PreparedActivity) -> None:
    """Replace a stored run's derived catalog values by ``prepared`` (same id: the same source bytes;
    its stream already rewritten): the activity row in place (its links, tags and import time kept),
    its laps and sessions, and its cached analysis dropped -- in one transaction."""
    row = prepared.activity_row
    with store.transaction() as tx:
        cur = tx.execute(
            "UPDATE activities SET source_path = coalesce(source_path, ?), format = ?, sport = ?, "
            "sub_sport = ?, start_time = ?, duration_s = ?, elapsed_s = ?, distance_m = ?, n_records = ?, "
            "manufacturer = ?, product = ?, serial_number = ?, summary_json = ?, decoder_version = ?, "
            "time_absolute = ?, utc_offset_s = ? WHERE athlete = ? AND id = ?",
            (*row[2:15], row[16], row[17], row[18], prepared.athlete, prepared.activity_id),
        )
        if cur.rowcount != 1:
            raise StoreError(f"run {prepared.activity_id[:12]} is no longer in the store")
        tx.execute("DELETE FROM laps WHERE athlete = ? AND activity_id = ?", row[1::-1])
        tx.execute("DELETE FROM sessions WHERE athlete = ? AND activity_id = ?", row[1::-1])
        tx.executemany(
            "INSERT INTO laps (athlete, activity_id, lap_index, start_time, elapsed_s, timer_s, distance_m,"
            " avg_speed_m_s, trigger, intensity, sport) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            prepared.lap_rows,
        )
        tx.executemany(
            "INSERT INTO sessions (athlete, activity_id, session_index, sport, sub_sport, start_time,"
            " elapsed_s, timer_s, distance_m) VALUES (?,?,?,?,?,?,?,?,?)",
            prepared.session_rows,
        )
        if "analysis_runs" in _tables(tx):
            tx.execute("DELETE FROM analysis_runs WHERE athlete = ? AND activity_id = ?", row[1::-1])


def record_failures(store: Store, athlete: str, failures: list[tuple[str, str]], version: int) -> None:
    """Remember ``(path, reason)`` of files an import could not read (``doctor`` retries them when
    the decoder version changes)."""
    if not failures:
        return
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with store.transaction() as tx:
        tx.executemany(
            "INSERT INTO import_failures (athlete, path, reason, decoder_version, failed_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (athlete, path) DO UPDATE SET reason = excluded.reason, "
            "decoder_version = excluded.decoder_version, failed_at = excluded.failed_at",
            [(athlete, path, reason, version, now) for path, reason in failures],
        )


def clear_failure(store: Store, athlete: str, paths: list[str]) -> None:
    """Forget the failures of ``paths`` (imported since, or gone)."""
    if paths:
        with store.transaction() as tx:
            tx.executemany(
                "DELETE FROM import_failures WHERE athlete = ? AND path = ?", [(athlete, p) for p in paths]
            )


def failed_files(store: Store, below_version: int | None = None) -> list[FailedFile]:
    """The remembered failures (those of a decoder older than ``below_version`` when given)."""
    sql = "SELECT athlete, path, reason, decoder_version FROM import_failures"
    args: tuple[Any, ...] = ()
    if below_version is not None:
        sql += " WHERE decoder_version < ?"
        args = (below_version,)
    rows = store.connect().execute(sql + " ORDER BY athlete, path", args).fetchall()
    return [FailedFile(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]


# ---------------------------------------------------------------------------- backup and restore
def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def snapshot_catalog(store: Store, target: Path) -> dict[StreamRef, int | None]:
    """Copy the catalog to ``target`` with SQLite's online backup API, in one step (one read
    transaction: a consistent snapshot, whatever a concurrent writer commits meanwhile), as a
    self-contained file (rollback journal, no WAL). Returns the streams the snapshot points to."""
    src = store.connect()
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")
        problems = catalog_problems(dst)
        if problems:
            raise StoreError(f"the catalog of {store.root} is damaged: {'; '.join(problems[:3])}")
        return referenced_streams(dst)
    finally:
        dst.close()


def copy_verified(src: Path, dst: Path) -> tuple[str, int]:
    """Copy ``src`` to ``dst`` (fsynced) and return the sha256 and size of the bytes copied."""
    digest = hashlib.sha256()
    size = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fin, dst.open("wb") as fout:
        while chunk := fin.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    shutil.copystat(src, dst)
    return digest.hexdigest(), size


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically (temp + fsync + rename)."""
    tmp = folder / (MANIFEST_FILE + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / MANIFEST_FILE)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StoreError(f"{folder} is not a stridelab backup: no {MANIFEST_FILE}") from exc
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != "stridelab-backup":
        raise StoreError(f"{path} is not a stridelab backup manifest")
    return data


def catalog_file_problems(path: Path) -> list[str]:
    """:func:`catalog_problems` of a catalog file (opened read-only: nothing written beside it)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [f"cannot open {path}: {exc}"]
    try:
        return catalog_problems(conn)
    except sqlite3.Error as exc:
        return [f"{path}: {exc}"]
    finally:
        conn.close()
