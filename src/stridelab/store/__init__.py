"""The embedded store: SQLite catalog + Parquet streams + DuckDB queries -- the only place with SQL.

:class:`Store` is the handle (connections, transactions, schemas, streams, the catalog's activity
reads). One public repository module per area holds that area's SQL, as plain functions taking the
store first: :mod:`stridelab.store.activities` (writing activities), :mod:`stridelab.store.imports`
(the source cache and an import's batched commits), :mod:`stridelab.store.imu` (analysed IMU
recordings). Import them directly (``from stridelab.store import imu``); they are not loaded here.
"""

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
