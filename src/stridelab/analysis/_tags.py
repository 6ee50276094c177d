"""Tags on runs, laps and time ranges (``cue=push-behind``), stored in the catalog (namespace
``experiments``).

A tag is ``key=value`` on one of three scopes:

* ``run``: the whole run;
* ``lap``: one lap (``lap_index`` 0-based inside, shown 1-based as the watch does);
* ``range``: a span of timer time ``[from_s, to_s)`` (seconds since the start, pauses excluded - what
  the watch's timer shows).

One key has at most one value per run (scope ``run``), per lap, or per identical range: tagging again
replaces the value. Tags follow their activity: deleting the activity deletes them (foreign key).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import pandas as pd

if TYPE_CHECKING:
    from stridelab.store import Store

__all__ = [
    "EXPERIMENT_MIGRATIONS",
    "TAG_SCOPES",
    "Tag",
    "TagError",
    "add_tags",
    "ensure_experiment_schema",
    "format_clock",
    "list_tags",
    "parse_clock",
    "parse_laps",
    "parse_tag",
    "remove_tags",
    "tags_for_runs",
]

TagScope = Literal["run", "lap", "range"]
TAG_SCOPES: Final[tuple[str, ...]] = ("run", "lap", "range")
_KEY_RE: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_VALUE_RE: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")

#: the ``experiments`` namespace: tags and experiment definitions. Migration i -> version i + 1.
EXPERIMENT_MIGRATIONS: Final[list[str]] = [
    """
    CREATE TABLE exp_tags (
        tag_id INTEGER PRIMARY KEY AUTOINCREMENT,
        athlete TEXT NOT NULL,
        activity_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('run', 'lap', 'range')),
        lap_index INTEGER,
        from_s REAL,
        to_s REAL,
        created_at TEXT NOT NULL,
        FOREIGN KEY (athlete, activity_id) REFERENCES activities (athlete, id) ON DELETE CASCADE
    );
    CREATE INDEX exp_tags_run ON exp_tags (athlete, activity_id);
    CREATE INDEX exp_tags_key ON exp_tags (athlete, key, value);
    CREATE TABLE exp_experiments (
        athlete TEXT NOT NULL,
        name TEXT NOT NULL,
        design TEXT NOT NULL,
        tag_key TEXT NOT NULL,
        arms_json TEXT NOT NULL,
        seed INTEGER NOT NULL,
        protocol_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (athlete, name)
    )
    """,
]


class TagError(ValueError):
    """Bad tag input (syntax, unknown lap, empty range...)."""


def ensure_experiment_schema(store: Store) -> None:
    """Create/upgrade the tables of the ``experiments`` namespace."""
    store.ensure_schema("experiments", EXPERIMENT_MIGRATIONS)


@dataclass(frozen=True, slots=True)
class Tag:
    """One stored tag. ``lap_index`` is 0-based; ``from_s``/``to_s`` are timer seconds."""

    tag_id: int
    activity_id: str
    key: str
    value: str
    scope: TagScope
    lap_index: int | None = None
    from_s: float | None = None
    to_s: float | None = None

    @property
    def lap_number(self) -> int | None:
        """The 1-based lap number a runner sees."""
        return None if self.lap_index is None else self.lap_index + 1

    def label(self) -> str:
        """``cue=push-behind``, ``cue=push-behind@lap3`` or ``cue=push-behind@10:00-20:00``."""
        base = f"{self.key}={self.value}"
        if self.scope == "lap":
            return f"{base}@lap{self.lap_number}"
        if self.scope == "range" and self.from_s is not None and self.to_s is not None:
            return f"{base}@{format_clock(self.from_s)}-{format_clock(self.to_s)}"
        return base

    def to_dict(self) -> dict[str, Any]:
        return {
            "tag_id": self.tag_id,
            "id": self.activity_id,
            "key": self.key,
            "value": self.value,
            "scope": self.scope,
            "lap": self.lap_number,
            "from_s": self.from_s,
            "to_s": self.to_s,
            "label": self.label(),
        }


# ---------------------------------------------------------------------------------------------- parsing
def parse_tag(text: str) -> tuple[str, str]:
    """``"cue=push-behind"`` -> ``("cue", "push-behind")`` (keys: letter first; values: no spaces)."""
    if "=" not in text:
        raise TagError(f"Invalid tag {text!r}: expected key=value, e.g. cue=push-behind")
    key, value = (s.strip() for s in text.split("=", 1))
    if not _KEY_RE.match(key):
        raise TagError(
            f"Invalid tag key {key!r}: start with a letter, then letters, digits, '_', '.', '-' (max 64)"
        )
    if not _VALUE_RE.match(value):
        raise TagError(
            f"Invalid tag value {value!r}: letters, digits, '_', '.', '+', '-' (max 64), no spaces"
        )
    return key, value


def parse_laps(text: str) -> list[int]:
    """``"1,3,5-7"`` (1-based lap numbers) -> 0-based lap indexes ``[0, 2, 4, 5, 6]``."""
    out: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise TagError(f"Invalid lap list {text!r}: use lap numbers from 1, e.g. 1,3,5 or 2-6")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if lo < 1 or hi < lo:
            raise TagError(f"Invalid lap list {text!r}: lap numbers start at 1 (as on the watch)")
        out.update(range(lo - 1, hi))
    if not out:
        raise TagError(f"Invalid lap list {text!r}: no lap numbers")
    return sorted(out)


def parse_clock(text: str) -> float:
    """``"10:00"`` / ``"1:05:30"`` / ``"600"`` (seconds) -> seconds."""
    t = text.strip()
    try:
        if ":" not in t:
            value = float(t)
        else:
            parts = [float(p) for p in t.split(":")]
            if len(parts) > 3 or any(p < 0 for p in parts) or any(p >= 60 for p in parts[1:]):
                raise ValueError(t)
            value = 0.0
            for p in parts:
                value = value * 60.0 + p
    except ValueError as exc:
        raise TagError(f"Invalid time {text!r}: use mm:ss, h:mm:ss or seconds") from exc
    if not (value >= 0 and value < 7 * 86400):
        raise TagError(f"Invalid time {text!r}: must be >= 0")
    return value


def format_clock(seconds: float) -> str:
    """Seconds -> ``m:ss`` or ``h:mm:ss``."""
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


# ---------------------------------------------------------------------------------------------- storage
def _now() -> str:
    return pd.Timestamp.now(tz="UTC").isoformat()


def _row_to_tag(row: Any) -> Tag:
    return Tag(
        tag_id=int(row["tag_id"]),
        activity_id=str(row["activity_id"]),
        key=str(row["key"]),
        value=str(row["value"]),
        scope=row["scope"],
        lap_index=None if row["lap_index"] is None else int(row["lap_index"]),
        from_s=None if row["from_s"] is None else float(row["from_s"]),
        to_s=None if row["to_s"] is None else float(row["to_s"]),
    )


def add_tags(
    store: Store,
    athlete: str,
    run_id: str,
    tags: Sequence[tuple[str, str]],
    *,
    laps: Sequence[int] | None = None,
    from_s: float | None = None,
    to_s: float | None = None,
) -> tuple[list[Tag], list[str]]:
    """Tag run ``run_id`` (id or prefix) with ``(key, value)`` pairs; returns the stored tags and
    warnings (e.g. the run has no running dynamics, so it cannot feed an experiment).

    ``laps`` are 0-based lap indexes (they must exist in the run); ``from_s``/``to_s`` a timer-time
    range (both or neither; not together with ``laps``). A key already set on the same run / lap /
    range gets the new value.
    """
    ensure_experiment_schema(store)
    activity = store.activity(athlete, run_id)
    full_id = activity.id
    warnings: list[str] = []
    if laps is not None and (from_s is not None or to_s is not None):
        raise TagError("Give either --lap or --from/--to, not both")
    if (from_s is None) != (to_s is None):
        raise TagError("A time range needs both --from and --to")
    if from_s is not None and to_s is not None:
        if to_s <= from_s:
            raise TagError(f"Empty time range: --to ({format_clock(to_s)}) must be after --from")
        duration = activity.duration_s or activity.elapsed_s
        if duration is not None and from_s >= duration:
            raise TagError(
                f"The range starts at {format_clock(from_s)}, after the end of the run "
                f"({format_clock(duration)} timer time)"
            )
        if duration is not None and to_s > duration + 1.0:
            warnings.append(
                f"the range ends at {format_clock(to_s)}, after the run ({format_clock(duration)}); "
                "it is cut at the end"
            )
    if laps is not None:
        n_laps = len(store.laps(athlete, full_id))
        bad = [i + 1 for i in laps if i >= n_laps]
        if bad:
            raise TagError(
                f"Run {full_id[:8]} has {n_laps} lap(s); no lap {', '.join(map(str, bad))} "
                "(laps are numbered from 1 as on the watch)"
            )
    if not activity.summary.get("has_running_dynamics", True):
        warnings.append(
            f"run {full_id[:8]} has no running dynamics (no chest strap / pod data): the tag is kept, "
            "but this run cannot contribute to a balance experiment"
        )
    scope: TagScope = "lap" if laps is not None else ("range" if from_s is not None else "run")
    now = _now()
    ids: list[int] = []
    with store.transaction() as tx:
        for key, value in tags:
            targets: list[tuple[int | None, float | None, float | None]] = (
                [(int(i), None, None) for i in (laps or [])] if scope == "lap" else [(None, from_s, to_s)]
            )
            for lap_index, f, t in targets:
                tx.execute(
                    "DELETE FROM exp_tags WHERE athlete = ? AND activity_id = ? AND key = ? AND scope = ? "
                    "AND lap_index IS ? AND from_s IS ? AND to_s IS ?",
                    (athlete, full_id, key, scope, lap_index, f, t),
                )
                cur = tx.execute(
                    "INSERT INTO exp_tags (athlete, activity_id, key, value, scope, lap_index, from_s, to_s, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (athlete, full_id, key, value, scope, lap_index, f, t, now),
                )
                ids.append(int(cur.lastrowid or 0))
    stored = [t for t in list_tags(store, athlete, run_id=full_id) if t.tag_id in set(ids)]
    return stored, warnings


def list_tags(
    store: Store,
    athlete: str,
    *,
    run_id: str | None = None,
    key: str | None = None,
    value: str | None = None,
) -> list[Tag]:
    """Tags of ``athlete`` (optionally of one run, one key, one value), by run, scope, lap, time."""
    ensure_experiment_schema(store)
    sql = "SELECT * FROM exp_tags WHERE athlete = ?"
    args: list[Any] = [athlete]
    if run_id is not None:
        sql += " AND activity_id = ?"
        args.append(store.resolve_id(athlete, run_id))
    if key is not None:
        sql += " AND key = ?"
        args.append(key)
    if value is not None:
        sql += " AND value = ?"
        args.append(value)
    sql += " ORDER BY activity_id, scope DESC, lap_index, from_s, key, tag_id"
    return [_row_to_tag(r) for r in store.connect().execute(sql, args).fetchall()]


def remove_tags(
    store: Store,
    athlete: str,
    run_id: str,
    selector: str | None = None,
    *,
    laps: Sequence[int] | None = None,
) -> int:
    """Remove tags of one run: all, those of a key (``"cue"``) or of a key and value (``"cue=pull"``),
    optionally only on the given 0-based ``laps``. Returns how many were removed."""
    ensure_experiment_schema(store)
    full_id = store.resolve_id(athlete, run_id)
    sql = "DELETE FROM exp_tags WHERE athlete = ? AND activity_id = ?"
    args: list[Any] = [athlete, full_id]
    if selector:
        if "=" in selector:
            key, value = parse_tag(selector)
            sql += " AND key = ? AND value = ?"
            args += [key, value]
        else:
            if not _KEY_RE.match(selector.strip()):
                raise TagError(f"Invalid tag key {selector!r}")
            sql += " AND key = ?"
            args.append(selector.strip())
    if laps is not None:
        sql += f" AND scope = 'lap' AND lap_index IN ({','.join('?' * len(laps))})"
        args += [int(i) for i in laps]
    with store.transaction() as tx:
        cur = tx.execute(sql, args)
    return int(cur.rowcount)


def tags_for_runs(store: Store, athlete: str, ids: Iterable[str]) -> dict[str, list[str]]:
    """Tag labels of each run id (full ids), for every place runs are listed.

    Run-scoped tags read ``cue=push-behind``; lap tags are grouped per value,
    ``cue=push-behind@lap1,3,5``; ranges ``cue=pull-up@10:00-20:00``. Runs without tags map to ``[]``.
    """
    wanted = list(dict.fromkeys(ids))
    out: dict[str, list[str]] = {i: [] for i in wanted}
    if not wanted:
        return out
    ensure_experiment_schema(store)
    rows: list[Any] = []
    conn = store.connect()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows += conn.execute(
            f"SELECT * FROM exp_tags WHERE athlete = ? AND activity_id IN ({','.join('?' * len(chunk))}) "
            "ORDER BY activity_id, scope DESC, key, value, lap_index, from_s",
            [athlete, *chunk],
        ).fetchall()
    laps: dict[tuple[str, str, str], list[int]] = {}
    for row in rows:
        tag = _row_to_tag(row)
        if tag.scope == "lap" and tag.lap_number is not None:
            laps.setdefault((tag.activity_id, tag.key, tag.value), []).append(tag.lap_number)
        else:
            out[tag.activity_id].append(tag.label())
    for (run, key, value), numbers in laps.items():
        out[run].append(f"{key}={value}@lap{','.join(str(n) for n in sorted(numbers))}")
    for run in out:
        out[run].sort()
    return out
