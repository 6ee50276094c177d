"""The IMU repository: analysed IMU recordings in the store -- catalog rows (SQLite, namespace ``imu``)
+ Parquet streams.

Catalog table ``imu_recordings`` (one row per athlete and recording): ``id`` (sha256 of the data file
bytes followed by the sidecar bytes, if any: :func:`recording_id`), ``athlete``, ``source_path``,
``imported_at`` (UTC ISO), ``activity``, ``gait_mode``, ``placements`` (comma-separated sensor names),
``n_strides`` and ``summary_json`` (the analysis summary, SI units). Streams (kind / athlete / id):
``imu_steps`` (per-step table), ``imu_strides`` (per-stride table incl. phases and kinematics) and
``imu_events`` (IC/TO). Re-importing the same bytes replaces the row and the streams (idempotent).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stridelab.io.imu import ImuRecording, find_sidecar
from stridelab.jsonsafe import to_jsonable
from stridelab.lazy import lazy_module
from stridelab.store._store import Store

if TYPE_CHECKING:  # the type only: importing the gait engine (scipy, ahrs) is heavy
    from stridelab.gait import GaitAnalysis

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "IMU_MIGRATIONS",
    "ensure_imu_schema",
    "has_imu_recording",
    "load_imu_analysis",
    "recording_id",
    "store_imu_analysis",
]

IMU_MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS imu_recordings (
        athlete TEXT NOT NULL,
        id TEXT NOT NULL,
        source_path TEXT,
        imported_at TEXT NOT NULL,
        activity TEXT,
        gait_mode TEXT,
        placements TEXT NOT NULL,
        n_strides INTEGER NOT NULL,
        summary_json TEXT NOT NULL,
        PRIMARY KEY (athlete, id)
    );
    CREATE INDEX IF NOT EXISTS imu_recordings_imported ON imu_recordings(athlete, imported_at);
    """
]


def ensure_imu_schema(store: Store) -> None:
    """Create or upgrade the ``imu`` namespace's tables."""
    store.ensure_schema("imu", IMU_MIGRATIONS)


def recording_id(path: str | Path) -> str:
    """sha256 of the data bytes (a folder: its files in name order) followed by the sidecar bytes."""
    p = Path(path)
    h = hashlib.sha256()
    files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    for f in files:
        h.update(f.read_bytes())
    side = find_sidecar(p)
    if side is not None:
        h.update(side.read_bytes())
    return h.hexdigest()


def has_imu_recording(store: Store, athlete: str, rec_id: str) -> bool:
    """Is recording ``rec_id`` of ``athlete`` stored?"""
    ensure_imu_schema(store)
    row = (
        store.connect()
        .execute("SELECT 1 FROM imu_recordings WHERE athlete = ? AND id = ?", (athlete, rec_id))
        .fetchone()
    )
    return row is not None


def store_imu_analysis(
    store: Store, athlete: str, rec_id: str, recording: ImuRecording, analysis: GaitAnalysis
) -> str:
    """Write the per-step/stride/event streams and the catalog row; returns ``rec_id``."""
    ensure_imu_schema(store)
    strides = analysis.strides.copy()
    phases = analysis.phases.drop(columns=["side"])
    strides = pd.concat([strides.reset_index(drop=True), phases.reset_index(drop=True)], axis=1)
    store.write_stream("imu_steps", athlete, rec_id, analysis.steps.reset_index(drop=True))
    store.write_stream("imu_strides", athlete, rec_id, strides)
    store.write_stream("imu_events", athlete, rec_id, analysis.events.reset_index(drop=True))
    summary = dict(analysis.summary)
    summary["problems"] = list(analysis.problems)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO imu_recordings(athlete, id, source_path, imported_at, activity, gait_mode, "
            "placements, n_strides, summary_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(athlete, id) DO UPDATE SET source_path=excluded.source_path, "
            "imported_at=excluded.imported_at, activity=excluded.activity, gait_mode=excluded.gait_mode, "
            "placements=excluded.placements, n_strides=excluded.n_strides, "
            "summary_json=excluded.summary_json",
            (
                athlete,
                rec_id,
                recording.source_path,
                datetime.now(UTC).isoformat(timespec="seconds"),
                analysis.activity,
                analysis.gait_mode,
                ",".join(s.name for s in recording.sensors),
                len(analysis.strides),
                json.dumps(to_jsonable(summary), sort_keys=True, allow_nan=False),
            ),
        )
    return rec_id


def load_imu_analysis(store: Store, athlete: str, rec_id: str) -> dict[str, Any]:
    """The catalog row (summary decoded) and the stored per-step table of one recording."""
    ensure_imu_schema(store)
    row = (
        store.connect()
        .execute("SELECT * FROM imu_recordings WHERE athlete = ? AND id = ?", (athlete, rec_id))
        .fetchone()
    )
    if row is None:
        raise KeyError(f"No IMU recording {rec_id!r} for athlete {athlete!r}")
    out = dict(row)
    out["summary"] = json.loads(out.pop("summary_json"))
    out["steps"] = store.read_stream("imu_steps", athlete, rec_id)
    return out
