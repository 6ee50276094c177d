"""Repository of experiment definitions (namespace ``experiments``, table ``exp_experiments``).

Plain functions over a :class:`~stridelab.store.Store`; they take and return
:class:`stridelab.analysis.Experiment`. The namespace's migrations are in :mod:`stridelab.store.tags`
(one list for tags and experiments, as the old stores have it).
"""

from __future__ import annotations

import json
from typing import Any

from stridelab.analysis import Experiment, ExperimentError, design_name
from stridelab.store._store import Store
from stridelab.store.tags import EXPERIMENT_MIGRATIONS

__all__ = [
    "delete_experiment",
    "ensure_experiments_schema",
    "find_experiment",
    "insert_experiment",
    "list_experiments",
]


def ensure_experiments_schema(store: Store) -> None:
    """Create/upgrade the tables of the ``experiments`` namespace (tags and experiments)."""
    store.ensure_schema("experiments", EXPERIMENT_MIGRATIONS)


def _row(r: Any) -> Experiment:
    arms = json.loads(r["arms_json"])
    return Experiment(
        name=r["name"],
        design=design_name(r["design"]),
        tag_key=r["tag_key"],
        arms=(arms[0], arms[1]),
        seed=int(r["seed"]),
        protocol=json.loads(r["protocol_json"]),
        created_at=r["created_at"],
    )


def insert_experiment(store: Store, athlete: str, exp: Experiment) -> None:
    """Store a new experiment; :class:`ExperimentError` when ``athlete`` has one of that name."""
    ensure_experiments_schema(store)
    with store.transaction() as tx:
        if tx.execute(
            "SELECT 1 FROM exp_experiments WHERE athlete = ? AND name = ?", (athlete, exp.name)
        ).fetchone():
            raise ExperimentError(f"An experiment named {exp.name!r} already exists")
        tx.execute(
            "INSERT INTO exp_experiments (athlete, name, design, tag_key, arms_json, seed, protocol_json, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                athlete,
                exp.name,
                exp.design,
                exp.tag_key,
                json.dumps(list(exp.arms)),
                exp.seed,
                json.dumps(exp.protocol),
                exp.created_at,
            ),
        )


def find_experiment(store: Store, athlete: str, name: str) -> Experiment | None:
    """The experiment ``name`` (stripped) of ``athlete``, None when there is none."""
    ensure_experiments_schema(store)
    r = (
        store.connect()
        .execute("SELECT * FROM exp_experiments WHERE athlete = ? AND name = ?", (athlete, name.strip()))
        .fetchone()
    )
    return None if r is None else _row(r)


def list_experiments(store: Store, athlete: str) -> list[Experiment]:
    """Every experiment of ``athlete``, oldest first."""
    ensure_experiments_schema(store)
    rows = (
        store.connect()
        .execute("SELECT * FROM exp_experiments WHERE athlete = ? ORDER BY created_at, name", (athlete,))
        .fetchall()
    )
    return [_row(r) for r in rows]


def delete_experiment(store: Store, athlete: str, name: str) -> bool:
    """Delete an experiment definition (its tags stay). True when it existed."""
    ensure_experiments_schema(store)
    with store.transaction() as tx:
        cur = tx.execute(
            "DELETE FROM exp_experiments WHERE athlete = ? AND name = ?", (athlete, name.strip())
        )
    return cur.rowcount > 0
