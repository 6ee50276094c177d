"""The training area's tables (namespace ``training``) and their plain reads and writes.

Every write is one ``store.transaction()`` (atomic). Dates are ISO ``YYYY-MM-DD`` strings (the
runner's calendar day), instants ISO UTC strings. The records are :mod:`stridelab.training`'s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from stridelab.lazy import lazy_module
from stridelab.store._store import Store
from stridelab.training import ExerciseLog, Plan, SessionLog, Stop, StoredPlan

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "MIGRATIONS",
    "active_plan",
    "add_balance_test",
    "add_function_test",
    "balance_history",
    "clear_stops",
    "content_digest",
    "ensure_training_schema",
    "function_test_history",
    "save_plan",
    "session_logs",
    "stops",
    "write_session_log",
]

MIGRATIONS: Final[list[str]] = [
    # v1: plans, session and exercise logs, balance tests, pain stops.
    """
    CREATE TABLE training_plans (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        athlete TEXT NOT NULL,
        created_at TEXT NOT NULL,
        start_date TEXT NOT NULL,
        end_date TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        plan_json TEXT NOT NULL
    );
    CREATE INDEX training_plans_active ON training_plans (athlete, active, id);
    CREATE TABLE training_session_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        athlete TEXT NOT NULL,
        plan_id INTEGER REFERENCES training_plans (id) ON DELETE CASCADE,
        date TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('done', 'partial', 'skipped')),
        rpe REAL CHECK (rpe IS NULL OR (rpe >= 0 AND rpe <= 10)),
        pain REAL CHECK (pain IS NULL OR (pain >= 0 AND pain <= 10)),
        note TEXT,
        logged_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX training_session_logs_day
        ON training_session_logs (athlete, IFNULL(plan_id, 0), date);
    CREATE TABLE training_exercise_logs (
        session_log_id INTEGER NOT NULL REFERENCES training_session_logs (id) ON DELETE CASCADE,
        exercise_id TEXT NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('left', 'right', 'both')),
        reps INTEGER CHECK (reps IS NULL OR reps >= 0),
        seconds REAL CHECK (seconds IS NULL OR seconds >= 0),
        pain REAL CHECK (pain IS NULL OR (pain >= 0 AND pain <= 10)),
        PRIMARY KEY (session_log_id, exercise_id, side)
    );
    CREATE TABLE training_balance_tests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        athlete TEXT NOT NULL,
        date TEXT NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('left', 'right')),
        eyes TEXT NOT NULL CHECK (eyes IN ('open', 'closed')),
        seconds REAL NOT NULL CHECK (seconds >= 0),
        note TEXT,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX training_balance_tests_day ON training_balance_tests (athlete, date);
    CREATE TABLE training_stops (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        athlete TEXT NOT NULL,
        exercise_id TEXT NOT NULL,
        date TEXT NOT NULL,
        pain REAL NOT NULL,
        cleared_date TEXT
    );
    CREATE INDEX training_stops_open ON training_stops (athlete, cleared_date)
    """,
    # v2 (issue 20): function tests (five-times sit-to-stand, tandem walk), typed in or measured.
    """
    CREATE TABLE training_function_tests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        athlete TEXT NOT NULL,
        date TEXT NOT NULL,
        test TEXT NOT NULL CHECK (test IN ('sit_to_stand_5x', 'tandem_walk')),
        seconds REAL NOT NULL CHECK (seconds >= 0),
        steps_off INTEGER CHECK (steps_off IS NULL OR steps_off >= 0),
        symmetry_index_pct REAL,
        source TEXT NOT NULL CHECK (source IN ('manual', 'sensor')),
        note TEXT,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX training_function_tests_day ON training_function_tests (athlete, date)
    """,
]


def ensure_training_schema(store: Store) -> None:
    """Create or migrate the training tables (idempotent, cheap after the first call)."""
    store.ensure_schema("training", MIGRATIONS)


def _now_iso() -> str:
    return str(pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


# ---------------------------------------------------------------------- plans
def save_plan(store: Store, athlete: str, plan: Plan, *, created_at: str | None = None) -> int:
    """Store ``plan`` as the athlete's active plan (older plans stay, inactive). Returns its id."""
    ensure_training_schema(store)
    with store.transaction() as tx:
        tx.execute("UPDATE training_plans SET active = 0 WHERE athlete = ?", (athlete,))
        cur = tx.execute(
            "INSERT INTO training_plans (athlete, created_at, start_date, end_date, active, plan_json) "
            "VALUES (?, ?, ?, ?, 1, ?)",
            (
                athlete,
                created_at or _now_iso(),
                plan.start.isoformat(),
                plan.end.isoformat(),
                json.dumps(plan.to_dict(), allow_nan=False),
            ),
        )
        plan_id = cur.lastrowid
    assert plan_id is not None
    return int(plan_id)


def active_plan(store: Store, athlete: str) -> StoredPlan | None:
    """The athlete's active (latest) plan, or None when no plan was created."""
    ensure_training_schema(store)
    row = (
        store.connect()
        .execute(
            "SELECT id, created_at, plan_json FROM training_plans WHERE athlete = ? AND active = 1 "
            "ORDER BY id DESC LIMIT 1",
            (athlete,),
        )
        .fetchone()
    )
    if row is None:
        return None
    return StoredPlan(int(row["id"]), row["created_at"], Plan.from_dict(json.loads(row["plan_json"])))


# ---------------------------------------------------------------------- session logs
def write_session_log(
    store: Store,
    athlete: str,
    plan_id: int | None,
    day: date,
    status: str,
    rpe: float | None,
    pain: float | None,
    note: str | None,
    exercises: tuple[ExerciseLog, ...],
    stops: Sequence[tuple[str, float]],
) -> int:
    """Replace the log of ``day`` (same plan) and add ``stops`` (exercise id, pain), atomically."""
    ensure_training_schema(store)
    with store.transaction() as tx:
        tx.execute(
            "DELETE FROM training_session_logs WHERE athlete = ? AND IFNULL(plan_id, 0) = ? AND date = ?",
            (athlete, plan_id or 0, day.isoformat()),
        )
        cur = tx.execute(
            "INSERT INTO training_session_logs (athlete, plan_id, date, status, rpe, pain, note, logged_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (athlete, plan_id, day.isoformat(), status, rpe, pain, note, _now_iso()),
        )
        log_id = int(cur.lastrowid or 0)
        tx.executemany(
            "INSERT INTO training_exercise_logs (session_log_id, exercise_id, side, reps, seconds, pain) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(log_id, e.exercise_id, e.side, e.reps, e.seconds, e.pain) for e in exercises],
        )
        tx.executemany(
            "INSERT INTO training_stops (athlete, exercise_id, date, pain) VALUES (?, ?, ?, ?)",
            [(athlete, ex_id, day.isoformat(), p) for ex_id, p in stops],
        )
    return log_id


def session_logs(store: Store, athlete: str, plan_id: int | None = None) -> list[SessionLog]:
    """Logged sessions (of ``plan_id`` if given), by date."""
    ensure_training_schema(store)
    conn = store.connect()
    sql = "SELECT * FROM training_session_logs WHERE athlete = ?"
    args: list[Any] = [athlete]
    if plan_id is not None:
        sql += " AND plan_id = ?"
        args.append(plan_id)
    rows = conn.execute(sql + " ORDER BY date, id", args).fetchall()
    out = []
    for r in rows:
        ex_rows = conn.execute(
            "SELECT * FROM training_exercise_logs WHERE session_log_id = ? ORDER BY exercise_id, side",
            (r["id"],),
        ).fetchall()
        exercises = tuple(
            ExerciseLog(e["exercise_id"], e["side"], e["reps"], e["seconds"], e["pain"]) for e in ex_rows
        )
        out.append(
            SessionLog(
                int(r["id"]),
                r["plan_id"],
                date.fromisoformat(r["date"]),
                r["status"],
                r["rpe"],
                r["pain"],
                r["note"],
                exercises,
            )
        )
    return out


# ---------------------------------------------------------------------- stops
def stops(store: Store, athlete: str, *, open_only: bool = True) -> list[Stop]:
    """Pain stops (only those not cleared by default), oldest first."""
    ensure_training_schema(store)
    sql = "SELECT * FROM training_stops WHERE athlete = ?" + (
        " AND cleared_date IS NULL" if open_only else ""
    )
    rows = store.connect().execute(sql + " ORDER BY date, id", (athlete,)).fetchall()
    return [
        Stop(
            int(r["id"]),
            r["exercise_id"],
            date.fromisoformat(r["date"]),
            float(r["pain"]),
            date.fromisoformat(r["cleared_date"]) if r["cleared_date"] else None,
        )
        for r in rows
    ]


def clear_stops(store: Store, athlete: str, exercise_id: str, day: date) -> int:
    """Mark the open stops of ``exercise_id`` (``"*"`` for the program pause) cleared. Returns how many."""
    ensure_training_schema(store)
    with store.transaction() as tx:
        cur = tx.execute(
            "UPDATE training_stops SET cleared_date = ? WHERE athlete = ? AND exercise_id = ? "
            "AND cleared_date IS NULL",
            (day.isoformat(), athlete, exercise_id),
        )
        return int(cur.rowcount)


# ---------------------------------------------------------------------- balance tests
def add_balance_test(
    store: Store,
    athlete: str,
    side: str,
    seconds: float,
    eyes: str,
    day: date,
    note: str | None = None,
) -> int:
    """Store one single-leg stand test (checked by ``stridelab.training.check_balance_test``).

    Returns its id."""
    ensure_training_schema(store)
    with store.transaction() as tx:
        cur = tx.execute(
            "INSERT INTO training_balance_tests (athlete, date, side, eyes, seconds, note, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (athlete, day.isoformat(), side, eyes, float(seconds), note, _now_iso()),
        )
        return int(cur.lastrowid or 0)


def balance_history(
    store: Store, athlete: str, *, since: date | None = None, until: date | None = None
) -> pd.DataFrame:
    """Balance tests as a frame: id, date (datetime64), side, eyes, seconds, note; ``until`` inclusive."""
    sql = "SELECT id, date, side, eyes, seconds, note FROM training_balance_tests WHERE athlete = ?"
    return _dated_rows(store, sql, athlete, since, until)


def _dated_rows(store: Store, sql: str, athlete: str, since: date | None, until: date | None) -> pd.DataFrame:
    """``sql`` (one athlete's rows, a ``date`` column) between ``since`` and ``until`` (inclusive), in
    date order; ``date`` as datetime64, ``seconds`` as float."""
    ensure_training_schema(store)
    args: list[Any] = [athlete]
    if since is not None:
        sql += " AND date >= ?"
        args.append(since.isoformat())
    if until is not None:
        sql += " AND date <= ?"
        args.append(until.isoformat())
    df = pd.read_sql_query(sql + " ORDER BY date, id", store.connect(), params=args)
    df["date"] = pd.to_datetime(df["date"])
    df["seconds"] = df["seconds"].astype("float64")
    return df


# ---------------------------------------------------------------------- function tests
def add_function_test(
    store: Store,
    athlete: str,
    test: str,
    seconds: float,
    day: date,
    *,
    steps_off: int | None = None,
    symmetry_index_pct: float | None = None,
    source: str = "manual",
    note: str | None = None,
) -> int:
    """Store one function test (checked by ``stridelab.training.check_function_test``). Returns its id."""
    ensure_training_schema(store)
    with store.transaction() as tx:
        cur = tx.execute(
            "INSERT INTO training_function_tests (athlete, date, test, seconds, steps_off, "
            "symmetry_index_pct, source, note, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                athlete,
                day.isoformat(),
                test,
                float(seconds),
                steps_off,
                symmetry_index_pct,
                source,
                note,
                _now_iso(),
            ),
        )
        return int(cur.lastrowid or 0)


def function_test_history(
    store: Store, athlete: str, *, since: date | None = None, until: date | None = None
) -> pd.DataFrame:
    """Function tests as a frame: id, date (datetime64), test, seconds, steps_off, symmetry_index_pct,
    source, note; ``until`` inclusive."""
    sql = (
        "SELECT id, date, test, seconds, steps_off, symmetry_index_pct, source, note "
        "FROM training_function_tests WHERE athlete = ?"
    )
    df = _dated_rows(store, sql, athlete, since, until)
    df["symmetry_index_pct"] = df["symmetry_index_pct"].astype("float64")
    df["steps_off"] = df["steps_off"].astype("Int64")
    return df


def content_digest(store: Store, athlete: str) -> str:
    """A digest of every training row of ``athlete``: every ``training_*`` table (plans, session and
    exercise logs, balance tests, stops, and any table a later migration adds), the athlete's rows or,
    for a table without an athlete column, all its rows. Changes whenever any of them is added, edited
    or removed (what a result built from them is kept under)."""
    ensure_training_schema(store)
    conn = store.connect()
    h = hashlib.blake2b(digest_size=16)
    tables = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'training\\_%' ESCAPE '\\' "
            "ORDER BY name"
        )
    ]
    for table in tables:
        columns = {str(c[1]) for c in conn.execute(f"PRAGMA table_info({table})")}
        where = " WHERE athlete = ?" if "athlete" in columns else ""
        rows = conn.execute(f"SELECT * FROM {table}{where} ORDER BY rowid", (athlete,) if where else ())
        h.update(table.encode())
        for row in rows:
            h.update(repr(tuple(row)).encode())
        h.update(b"\x1e")
    return h.hexdigest()
