"""The embedded store: a SQLite catalog (WAL) beside per-activity Parquet streams, queried with DuckDB.

Layout of a store directory::

    catalog.sqlite                   activities, laps, sessions, sources, schema versions (+ areas' tables)
    streams/<kind>/<athlete>/<key>.parquet   record streams (kind "records") and other per-item tables

Atomicity: a stream is written to a temporary file in the same directory, fsynced and renamed into
place; the catalog row that makes it visible is written in one SQLite transaction afterwards. A crash
between the two leaves an orphan stream file that no catalog row points to (invisible, overwritten by
the next import of the same file, removed by :meth:`Store.vacuum`), never a half activity.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from platformdirs import user_data_dir

from stridelab.lazy import lazy_module
from stridelab.model import Activity
from stridelab.store._links import DUPLICATE_MIGRATIONS, NOT_A_DUPLICATE
from stridelab.store._migrations import CORE_MIGRATIONS
from stridelab.store.activities import add_activity as _add_activity

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
else:
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")
    pq = lazy_module("pyarrow.parquet")

__all__ = [
    "AmbiguousIdError",
    "Store",
    "StoreError",
    "UnknownIdError",
    "check_athlete",
    "default_store_path",
]

#: the codec of the streams written (:meth:`Store.write_stream`); a stream written with another (the
#: zstd of earlier versions) reads the same. LZ4 (raw): on one-hour runs 1.2 ms less CPU to write and
#: 0.8 ms less to read than zstd, for files 1.6x larger (230 vs 141 KiB); see docs/speed.md
STREAM_COMPRESSION: Final[str] = "lz4"
#: tables up to this size are encoded in memory and written at once (larger ones are streamed)
_ENCODE_IN_MEMORY_BYTES: Final[int] = 16 * 1024 * 1024
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class StoreError(RuntimeError):
    """A store problem (cannot open, bad schema version, bad key...)."""


class UnknownIdError(StoreError, KeyError):
    """No activity matches the given id or prefix."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class AmbiguousIdError(StoreError):
    """An abbreviated id matches several activities."""


def default_store_path() -> Path:
    """``$STRIDELAB_STORE`` or the platform's user data dir (e.g. ~/.local/share/stridelab/store)."""
    env = os.environ.get("STRIDELAB_STORE")
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir("stridelab", appauthor=False)) / "store"


def check_athlete(name: str) -> str:
    """``name`` if it is a valid athlete name, else :class:`StoreError` saying what is allowed."""
    return _check_key(name, "athlete")


def _check_key(value: str, what: str) -> str:
    if not _SAFE_KEY.match(value) or value in {".", ".."}:
        raise StoreError(
            f"Invalid {what} {value!r}: use 1-128 characters from letters, digits, '_', '.', '-'"
        )
    return value


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """One activity as the catalog knows it (no records)."""

    id: str
    athlete: str
    source_path: str | None
    format: str
    sport: str | None
    sub_sport: str | None
    start_time: pd.Timestamp
    duration_s: float | None
    elapsed_s: float | None
    distance_m: float | None
    n_records: int
    manufacturer: str | None
    product: str | None
    serial_number: int | None
    summary: dict[str, Any]
    #: False: the source held only device-relative times (``start_time`` counts from the Unix epoch
    #: + the device's uptime, not a date); the listing reads leave it out unless ``include_undated``
    time_absolute: bool = True
    #: the run's UTC offset (s) from its file; None: unknown (the machine's zone is shown)
    utc_offset_s: int | None = None

    @property
    def start_utc(self) -> datetime:
        """``start_time`` as a timezone-aware stdlib datetime (UTC), read without pandas: what a
        listing prints (``stridelab runs`` on 2,000 runs never imports pandas)."""
        raw = _START_SLOT.__get__(self, ActivityRow)
        if isinstance(raw, str):
            try:
                parsed = datetime.fromisoformat(raw)
            except ValueError:
                pass
            else:
                return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        stamp = self.start_time
        out: datetime = stamp.to_pydatetime() if stamp.tzinfo is not None else stamp.tz_localize("UTC")
        return out


class _LazyStartTime:
    """``ActivityRow.start_time``: a row read from the catalog holds the catalog's ISO text, turned into
    the ``pd.Timestamp`` on the first read of ``start_time`` (and kept); a command that only reads
    ``start_utc`` (the listing) or no time at all never imports pandas. Every reader still sees a
    ``pd.Timestamp`` (the dataclass's ``__eq__``, ``__repr__``, ``asdict`` read through here)."""

    def __init__(self, slot: Any) -> None:
        self._slot = slot

    def __get__(self, obj: ActivityRow | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = self._slot.__get__(obj, owner)
        if isinstance(value, str):
            value = pd.Timestamp(value)
            self._slot.__set__(obj, value)  # a cache of the same value: the row stays frozen
        return value

    def __set__(self, obj: ActivityRow, value: Any) -> None:
        self._slot.__set__(obj, value)


_START_SLOT: Any = ActivityRow.__dict__["start_time"]  # the slot itself (raw text or Timestamp)
ActivityRow.start_time = _LazyStartTime(_START_SLOT)  # type: ignore[assignment,misc]


class Store:
    """Handle on one store directory. Cheap to create; connections are opened per thread."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self._local = threading.local()
        self._ensured: set[str] = set()

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: Path | str | None = None) -> Store:
        """Open the store at ``path`` (default :func:`default_store_path`), creating it if needed."""
        root = Path(path).expanduser() if path is not None else default_store_path()
        if root.exists() and not root.is_dir():
            raise StoreError(f"Cannot use {root} as a store: it is a file, not a directory")
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / "streams").mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create store directory {root}: {exc.strerror or exc}") from exc
        store = cls(root)
        store.ensure_schema("core", CORE_MIGRATIONS)
        store.ensure_schema("duplicates", DUPLICATE_MIGRATIONS)
        return store

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.sqlite"

    def connect(self) -> sqlite3.Connection:
        """This thread's SQLite connection (WAL, foreign keys on, 30 s busy timeout)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.catalog_path, timeout=30.0, isolation_level=None)
            except sqlite3.Error as exc:
                raise StoreError(f"Cannot open catalog {self.catalog_path}: {exc}") from exc
            try:
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA busy_timeout=30000")
            except sqlite3.Error as exc:
                conn.close()
                raise StoreError(
                    f"Cannot open catalog {self.catalog_path}: {exc} (is it a stridelab store?)"
                ) from exc
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any exception): one atomic write."""
        conn = self.connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def ensure_schema(self, namespace: str, migrations: Sequence[str]) -> None:
        """Apply the not-yet-applied ``migrations`` (SQL scripts, in order) of ``namespace`` atomically.

        Each area of the code owns its namespace and its list; migration ``i`` brings the namespace
        to version ``i + 1``. A catalog newer than the code (more versions applied than known) is
        refused rather than misread.
        """
        if namespace in self._ensured:
            return
        conn = self.connect()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions "
            "(namespace TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        row = conn.execute("SELECT version FROM schema_versions WHERE namespace = ?", (namespace,)).fetchone()
        current = int(row[0]) if row else 0
        if current > len(migrations):
            raise StoreError(
                f"Store {self.root} has schema '{namespace}' version {current}, newer than this "
                f"stridelab knows ({len(migrations)}); upgrade stridelab."
            )
        if current < len(migrations):
            with self.transaction() as tx:
                # re-read under the write lock: another process may have migrated meanwhile
                row = tx.execute(
                    "SELECT version FROM schema_versions WHERE namespace = ?", (namespace,)
                ).fetchone()
                current = int(row[0]) if row else 0
                for version, script in enumerate(migrations[current:], start=current + 1):
                    for statement in _split_sql(script):
                        tx.execute(statement)
                    tx.execute(
                        "INSERT INTO schema_versions(namespace, version) VALUES (?, ?) "
                        "ON CONFLICT(namespace) DO UPDATE SET version = excluded.version",
                        (namespace, version),
                    )
        self._ensured.add(namespace)

    def schema_version(self, namespace: str = "core") -> int:
        row = (
            self.connect()
            .execute("SELECT version FROM schema_versions WHERE namespace = ?", (namespace,))
            .fetchone()
        )
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ streams
    def stream_path(self, kind: str, athlete: str, key: str) -> Path:
        _check_key(kind, "stream kind")
        _check_key(athlete, "athlete")
        _check_key(key, "stream key")
        return self.root / "streams" / kind / athlete / f"{key}.parquet"

    def write_stream(
        self, kind: str, athlete: str, key: str, table: pd.DataFrame | pa.Table, *, durable: bool = True
    ) -> Path:
        """Atomically write a Parquet stream (:data:`STREAM_COMPRESSION`): temp file in the same dir,
        fsync, rename. A table up to 16 MB is encoded in memory and written with one call.

        ``durable=False`` leaves out the fsync: the rename is still atomic (a reader sees the old file
        or the new one, never a half), but the caller must call :meth:`sync_streams` on the path
        before committing anything that points to it (a bulk import syncs a batch at once)."""
        path = self.stream_path(kind, athlete, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(table, pd.DataFrame):
            table = pa.Table.from_pandas(table, preserve_index=True, nthreads=1)
        encoded = None
        if table.nbytes <= _ENCODE_IN_MEMORY_BYTES:  # one write, no Python file call per page
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink, compression=STREAM_COMPRESSION, use_dictionary=False)
            encoded = sink.getvalue()
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                if encoded is not None:
                    fh.write(memoryview(encoded))
                else:  # a large table: streamed to the file, never held twice
                    pq.write_table(table, fh, compression=STREAM_COMPRESSION, use_dictionary=False)
                fh.flush()
                if durable:
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return path

    @staticmethod
    def sync_streams(paths: Sequence[Path]) -> None:
        """Make streams written with ``durable=False`` durable: fsync each file, then each of their
        directories once (the renames). Raises OSError (e.g. a stream removed meanwhile)."""
        dirs: dict[Path, None] = {}
        for path in paths:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            dirs[path.parent] = None
        for folder in dirs:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def read_stream(
        self, kind: str, athlete: str, key: str, columns: list[str] | None = None
    ) -> pd.DataFrame:
        path = self.stream_path(kind, athlete, key)
        if not path.exists():
            raise StoreError(f"Stream {kind}/{athlete}/{key} is missing from store {self.root}")
        frame: pd.DataFrame = pq.read_table(path, columns=columns).to_pandas()
        return frame

    def duckdb(self) -> Any:
        """A DuckDB connection (in-memory) for analytical queries over the Parquet streams."""
        import duckdb

        return duckdb.connect()

    # ------------------------------------------------------------------ activities
    def resolve_id(self, athlete: str, id_or_prefix: str) -> str:
        """Full activity id from an abbreviated one (like a git hash, at least 4 hex characters)."""
        prefix = id_or_prefix.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{4,64}", prefix):
            raise UnknownIdError(
                f"Invalid run id {id_or_prefix!r}: expected at least 4 hexadecimal characters"
            )
        rows = (
            self.connect()
            .execute(
                "SELECT id, start_time, sport FROM activities WHERE athlete = ? AND id >= ? AND id < ? "
                "ORDER BY id LIMIT 6",
                (athlete, prefix, prefix + "g"),
            )
            .fetchall()
        )
        if not rows:
            raise UnknownIdError(f"No run {id_or_prefix!r} for athlete {athlete!r} in store {self.root}")
        if len(rows) > 1:
            shown = ", ".join(
                f"{r['id'][: max(len(prefix) + 4, 12)]} ({r['start_time'][:16].replace('T', ' ')} "
                f"{r['sport'] or '-'})"
                for r in rows[:5]
            )
            more = " and more" if len(rows) > 5 else ""
            raise AmbiguousIdError(
                f"Run id {id_or_prefix!r} is ambiguous: it matches {shown}{more}; give more characters"
            )
        return str(rows[0][0])

    def has_activity(self, athlete: str, activity_id: str) -> bool:
        row = (
            self.connect()
            .execute("SELECT 1 FROM activities WHERE athlete = ? AND id = ?", (athlete, activity_id))
            .fetchone()
        )
        return row is not None

    def known_ids(self, athlete: str) -> set[str]:
        rows = self.connect().execute("SELECT id FROM activities WHERE athlete = ?", (athlete,)).fetchall()
        return {r[0] for r in rows}

    def activity(self, athlete: str, id_or_prefix: str) -> ActivityRow:
        activity_id = self.resolve_id(athlete, id_or_prefix)
        row = (
            self.connect()
            .execute("SELECT * FROM activities WHERE athlete = ? AND id = ?", (athlete, activity_id))
            .fetchone()
        )
        return _row_to_activity(row)

    def list_activities(
        self,
        athlete: str = "me",
        *,
        since: pd.Timestamp | None = None,
        until: pd.Timestamp | None = None,
        sport: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        descending: bool = False,
        include_duplicates: bool = False,
        include_undated: bool = False,
        summary_keys: Sequence[str] | None = None,
    ) -> list[ActivityRow]:
        """Catalog rows ordered by start time (``until`` is exclusive). Activities linked as duplicates
        of another (the same activity from another source, :mod:`stridelab.store.duplicates`) are left
        out unless ``include_duplicates``; runs with no absolute time (device-relative times that no
        message of the file resolved: not dates) are left out of every date-based read unless
        ``include_undated``.

        ``summary_keys``: for listings that read a few summary values of many runs -- each row's
        ``summary`` then holds only those of its keys that are present (their values exactly as the
        full summary has them), read by SQLite's JSON functions instead of parsing every row's whole
        summary (~2 KB of JSON, mostly device descriptions) in Python."""
        if summary_keys is None:
            sql = "SELECT * FROM activities WHERE athlete = ?"
        else:
            self.ensure_schema("core", CORE_MIGRATIONS)  # the columns named below (an old store)
            # one JSON parse per row: json_extract with several paths gives a JSON array of them
            paths = [_json_path(k) for k in summary_keys] or ["'$.__'"]
            pick = ", ".join(paths if len(paths) > 1 else paths * 2)
            sql = (
                f"SELECT {_ROW_COLUMNS}, json_extract(summary_json, {pick}) FROM activities WHERE athlete = ?"
            )
        args: list[Any] = [athlete]
        if not include_undated:
            self.ensure_schema("core", CORE_MIGRATIONS)  # an old store opened without open()
            sql += " AND time_absolute = 1"
        if not include_duplicates:
            self.ensure_schema("duplicates", DUPLICATE_MIGRATIONS)  # an old store opened without open()
            sql += " AND " + NOT_A_DUPLICATE
        if since is not None:
            sql += " AND start_time >= ?"
            args.append(_iso(since))
        if until is not None:
            sql += " AND start_time < ?"
            args.append(_iso(until))
        if sport is not None:
            sql += " AND sport = ?"
            args.append(sport)
        sql += " ORDER BY start_time " + ("DESC" if descending else "ASC") + ", id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [int(limit), int(offset)]
        fetched = self.connect().execute(sql, args).fetchall()
        if not fetched:
            return []
        columns = frozenset(fetched[0].keys())  # once per query, not per row
        if summary_keys is None:
            return [_row_to_activity(r, columns=columns) for r in fetched]
        keys = list(summary_keys)
        return [_row_to_activity(r, _picked_summary(r[-1], keys), columns=columns) for r in fetched]

    def activities_frame(self, athlete: str = "me", **filters: Any) -> pd.DataFrame:
        """:meth:`list_activities` as a DataFrame (one row per run, summary keys flattened; the same
        ``filters``, duplicates left out unless ``include_duplicates=True``)."""
        rows = self.list_activities(athlete, **filters)
        records = []
        for r in rows:
            d = {k: getattr(r, k) for k in ActivityRow.__slots__ if k != "summary"}
            d.update(r.summary)
            records.append(d)
        return pd.DataFrame.from_records(records)

    def lap_count(self, athlete: str, activity_id: str) -> int:
        """How many laps :meth:`laps` would return (one COUNT, no frame)."""
        row = (
            self.connect()
            .execute(
                "SELECT count(*) FROM laps WHERE athlete = ? AND activity_id = ?", (athlete, activity_id)
            )
            .fetchone()
        )
        return int(row[0])

    def laps(self, athlete: str, activity_id: str) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT * FROM laps WHERE athlete = ? AND activity_id = ? ORDER BY lap_index",
            self.connect(),
            params=(athlete, activity_id),
        )

    def records(self, athlete: str, activity_id: str, columns: list[str] | None = None) -> pd.DataFrame:
        """The record stream of one activity (time-indexed, canonical SI columns)."""
        df = self.read_stream("records", athlete, activity_id, columns=columns)
        if "time" in df.columns:
            df = df.set_index("time")
        return df

    def add_activity(
        self, athlete: str, activity: Activity, records: pd.DataFrame | pa.Table | None = None
    ) -> bool:
        """Store one :class:`~stridelab.model.Activity` atomically. Returns False if it was present
        (:func:`stridelab.store.activities.add_activity`)."""
        return _add_activity(self, athlete, activity, records)

    def delete_activity(self, athlete: str, activity_id: str) -> None:
        with self.transaction() as tx:
            tx.execute("DELETE FROM laps WHERE athlete = ? AND activity_id = ?", (athlete, activity_id))
            tx.execute("DELETE FROM sessions WHERE athlete = ? AND activity_id = ?", (athlete, activity_id))
            tx.execute("DELETE FROM activities WHERE athlete = ? AND id = ?", (athlete, activity_id))
        with contextlib.suppress(FileNotFoundError):
            self.stream_path("records", athlete, activity_id).unlink()

    def vacuum(self, *, min_age_s: float = 0.0) -> int:
        """Remove orphan record streams (left by a crash between rename and commit) and temp files
        older than ``min_age_s`` (a concurrent import's fresh stream waits for its commit: pass a few
        minutes when another process may be writing), then fold the write-ahead log into the catalog
        and let SQLite reclaim free pages. Returns the number of files removed."""
        removed = 0
        base = self.root / "streams" / "records"
        now = time.time()
        for athlete_dir in base.iterdir() if base.exists() else ():
            if not athlete_dir.is_dir():
                continue
            known = self.known_ids(athlete_dir.name)
            for f in athlete_dir.iterdir():
                if f.name.endswith(".tmp") or (f.suffix == ".parquet" and f.stem not in known):
                    with contextlib.suppress(FileNotFoundError):
                        if now - f.stat().st_mtime < min_age_s:
                            continue
                        f.unlink()
                        removed += 1
        conn = self.connect()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        return removed

    def athletes(self) -> list[str]:
        rows = self.connect().execute("SELECT DISTINCT athlete FROM activities ORDER BY athlete").fetchall()
        return [r[0] for r in rows]


def _iso(ts: pd.Timestamp) -> str:
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: every catalog column an :class:`ActivityRow` is made of (``summary_json`` aside)
_ROW_COLUMNS: Final[str] = (
    "id, athlete, source_path, format, sport, sub_sport, start_time, duration_s, elapsed_s, distance_m, "
    "n_records, manufacturer, product, serial_number, time_absolute, utc_offset_s"
)


_PLAIN_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _json_path(key: str) -> str:
    """The SQL literal of the JSON path of one top-level summary key (a plain name: JSON text may
    escape other characters, which SQLite's paths would then not match)."""
    if not _PLAIN_KEY.fullmatch(key):
        raise ValueError(f"summary key {key!r} is not a plain name (letters, digits, _)")
    return f"'$.{key}'"


def _picked_summary(picked: str | None, keys: list[str]) -> dict[str, Any]:
    """The summary keys from the JSON array ``json_extract`` made of them (JSON types as
    ``json.loads`` gives them from the whole summary); a key that is missing or null is left out."""
    values = json.loads(picked) if picked else []
    return {k: v for k, v in zip(keys, values, strict=False) if v is not None}


def _row_to_activity(
    row: sqlite3.Row, summary: dict[str, Any] | None = None, *, columns: frozenset[str] | None = None
) -> ActivityRow:
    """An :class:`ActivityRow` of a catalog row (``summary``: already read; ``columns``: the row's
    column names, when known for a whole query)."""
    if columns is None:
        columns = frozenset(row.keys())
    return ActivityRow(
        id=row["id"],
        athlete=row["athlete"],
        source_path=row["source_path"],
        format=row["format"],
        sport=row["sport"],
        sub_sport=row["sub_sport"],
        start_time=row["start_time"],  # ISO text: a pd.Timestamp on the first read (_LazyStartTime)
        duration_s=row["duration_s"],
        elapsed_s=row["elapsed_s"],
        distance_m=row["distance_m"],
        n_records=int(row["n_records"]),
        manufacturer=row["manufacturer"],
        product=row["product"],
        serial_number=row["serial_number"],
        summary=json.loads(row["summary_json"] or "{}") if summary is None else summary,
        time_absolute=bool(row["time_absolute"]) if "time_absolute" in columns else True,
        utc_offset_s=row["utc_offset_s"] if "utc_offset_s" in columns else None,
    )


def _split_sql(script: str) -> list[str]:
    """The statements of a migration script; a ``;`` inside a string literal or a trigger body does not
    end a statement (SQLite itself says when one is complete)."""
    out: list[str] = []
    buf = ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \t\r\n;"):
                out.append(buf.strip())
            buf = ""
    if buf.strip(" \t\r\n;"):
        out.append(buf.strip())  # an unterminated last statement: let SQLite report it
    return out
