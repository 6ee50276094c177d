"""The imports repository: the source cache (``sources``: where a file was seen, its fingerprint and
the activity it held) and the batched catalog commits of an import.

The ``sources`` table belongs to the core schema (``store._migrations``), created by ``Store.open``.
A fingerprint is ``file:<size>:<mtime_ns>`` for a file on disk or ``zip:<size>:<crc32>`` for a zip
member; the key is the file's absolute path (for a zip member: the zip's path, ``!``, the member).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from stridelab.store._store import Store
from stridelab.store.activities import PreparedActivity, commit_prepared

__all__ = ["SourceRow", "checkpoint", "commit_batch", "file_fingerprint", "known_fingerprints"]


def file_fingerprint(size: int, mtime_ns: int) -> str:
    """The source cache's fingerprint of a file on disk, ``file:<size>:<mtime_ns>``: the local import,
    its cache-only re-import and the cluster import's plan all key the cache by it."""
    return f"file:{size}:{mtime_ns}"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of the source cache: the file at ``key`` with ``fingerprint`` held activity ``sha256``."""

    key: str
    fingerprint: str
    sha256: str


def known_fingerprints(store: Store, athlete: str) -> dict[tuple[str, str], str]:
    """``(key, fingerprint) -> activity id`` of the sources whose activity ``athlete`` has."""
    rows = store.connect().execute(
        "SELECT s.path, s.fingerprint, s.sha256 FROM sources s JOIN activities a ON a.id = s.sha256 "
        "WHERE a.athlete = ?",
        (athlete,),
    )
    return {(r[0], r[1]): r[2] for r in rows}


def commit_batch(
    store: Store, items: Sequence[tuple[PreparedActivity | None, SourceRow | None]]
) -> list[bool]:
    """In one transaction: each prepared activity's catalog rows (unless present) and each source row
    (inserted or updated). Returns, per item, whether its activity was added. Any error rolls the
    whole batch back (nothing half-written) and is raised. Streams prepared with ``durable=False``
    are synced first (:meth:`Store.sync_streams`), so a committed row never points to a stream that
    a power loss could take back."""
    added: list[bool] = []
    # streams written without fsync (a worker's bulk write) are made durable before any row points
    # to them: one pass over the batch instead of one fsync per file in the workers
    store.sync_streams(
        [p.stream_path for p, _ in items if p is not None and not p.durable and p.stream_path is not None]
    )
    with store.transaction() as tx:
        for prepared, source in items:
            added.append(prepared is not None and commit_prepared(tx, prepared))
            if source is not None:
                tx.execute(
                    "INSERT INTO sources(path, fingerprint, sha256) VALUES (?,?,?) ON CONFLICT(path) "
                    "DO UPDATE SET fingerprint = excluded.fingerprint, sha256 = excluded.sha256",
                    (source.key, source.fingerprint, source.sha256),
                )
    return added


def checkpoint(store: Store) -> None:
    """Fold the write-ahead log into the catalog after a bulk import (passive: never waits; errors are
    ignored, the next checkpoint does it)."""
    with contextlib.suppress(Exception):
        store.connect().execute("PRAGMA wal_checkpoint(PASSIVE)")
