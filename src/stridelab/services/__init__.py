"""What a user can do, for every front end (CLI, web, live feedback, cluster import).

Each module is one area and composes the readers (``io``), the pure cores (``gait``, ``analysis``,
``training``) and the store's repositories (``store``). The edges (``cli``, ``web``) import only
services and ``present``; nothing below imports services.

``open_store`` and the store's error types are re-exported here so that an edge can open a store and
catch its errors without importing ``stridelab.store``.
"""

from __future__ import annotations

from pathlib import Path

from stridelab.store import (
    AmbiguousIdError,
    Store,
    StoreError,
    UnknownIdError,
    check_athlete,
    default_store_path,
)

__all__ = [
    "AmbiguousIdError",
    "Store",
    "StoreError",
    "UnknownIdError",
    "check_athlete",
    "default_store_path",
    "open_store",
]


def open_store(path: Path | str | None = None) -> Store:
    """Open (creating if needed) the store at ``path``, else ``$STRIDELAB_STORE`` or the user data
    dir. Raises :class:`StoreError` with a one-line reason when it cannot be opened.

    Opening also removes, at most once an hour, the leftovers of interrupted writes (temporary and
    orphan stream files older than a few minutes: :func:`stridelab.store.maintenance.sweep`)."""
    from stridelab.store.maintenance import sweep  # lazy: only when a store is opened

    store = Store.open(path)
    sweep(store)
    return store
