"""Core catalog schema. Migration ``i`` brings namespace ``core`` to version ``i + 1``.

Other areas (training, imu, tags, experiments) keep their own namespaces and lists and call
:meth:`stridelab.store.Store.ensure_schema` themselves.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CORE_MIGRATIONS"]

CORE_MIGRATIONS: Final[list[str]] = [
    # v1: activities, laps, sessions, the source cache (path + size/mtime or zip CRC -> sha256)
    """
    CREATE TABLE activities (
        id TEXT NOT NULL,
        athlete TEXT NOT NULL,
        source_path TEXT,
        format TEXT NOT NULL,
        sport TEXT,
        sub_sport TEXT,
        start_time TEXT NOT NULL,
        duration_s REAL,
        elapsed_s REAL,
        distance_m REAL,
        n_records INTEGER NOT NULL,
        manufacturer TEXT,
        product TEXT,
        serial_number INTEGER,
        summary_json TEXT NOT NULL DEFAULT '{}',
        imported_at TEXT NOT NULL,
        PRIMARY KEY (athlete, id)
    );
    CREATE INDEX activities_start ON activities (athlete, start_time);
    CREATE TABLE laps (
        athlete TEXT NOT NULL,
        activity_id TEXT NOT NULL,
        lap_index INTEGER NOT NULL,
        start_time TEXT NOT NULL,
        elapsed_s REAL,
        timer_s REAL,
        distance_m REAL,
        avg_speed_m_s REAL,
        trigger TEXT,
        intensity TEXT,
        sport TEXT,
        PRIMARY KEY (athlete, activity_id, lap_index),
        FOREIGN KEY (athlete, activity_id) REFERENCES activities (athlete, id) ON DELETE CASCADE
    );
    CREATE TABLE sessions (
        athlete TEXT NOT NULL,
        activity_id TEXT NOT NULL,
        session_index INTEGER NOT NULL,
        sport TEXT,
        sub_sport TEXT,
        start_time TEXT NOT NULL,
        elapsed_s REAL,
        timer_s REAL,
        distance_m REAL,
        PRIMARY KEY (athlete, activity_id, session_index),
        FOREIGN KEY (athlete, activity_id) REFERENCES activities (athlete, id) ON DELETE CASCADE
    );
    CREATE TABLE sources (
        path TEXT NOT NULL PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        sha256 TEXT NOT NULL
    )
    """,
    # v2: what each run was derived with (``doctor`` re-derives older ones), whether its times are
    # absolute (a FIT file with only device-relative times is not; date-based views leave it out), and
    # the files an import could not read (``doctor`` retries them when the decoder version changed)
    """
    ALTER TABLE activities ADD COLUMN decoder_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE activities ADD COLUMN time_absolute INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE import_failures (
        athlete TEXT NOT NULL,
        path TEXT NOT NULL,
        reason TEXT NOT NULL,
        decoder_version INTEGER NOT NULL,
        failed_at TEXT NOT NULL,
        PRIMARY KEY (athlete, path)
    )
    """,
    # v3: the run's UTC offset in seconds where its file states it (FIT ``activity.local_timestamp``);
    # NULL: unknown, shown in the machine's zone
    """
    ALTER TABLE activities ADD COLUMN utc_offset_s INTEGER
    """,
]
