"""The embedded store: SQLite catalog + Parquet streams + DuckDB queries."""

from stridelab.store._store import (
    ActivityRow,
    AmbiguousIdError,
    Store,
    StoreError,
    UnknownIdError,
    check_athlete,
    default_store_path,
)

__all__ = [
    "ActivityRow",
    "AmbiguousIdError",
    "Store",
    "StoreError",
    "UnknownIdError",
    "check_athlete",
    "default_store_path",
]
