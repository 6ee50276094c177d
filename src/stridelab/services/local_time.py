"""Local time for runs imported before the FIT decoder kept the file's UTC offset.

The offset (``activity.local_timestamp - timestamp`` of the FIT file, see
:func:`stridelab.io.fit.utc_offset_s`) is read once at import since store schema core v3. Runs
imported earlier have none, and the stored record stream does not hold it (records are UTC). This
back-fill reads it from each such run's source file -- found through the source cache, and used only
when its bytes still hash to the run's id, so a changed or replaced file is never taken for the run --
and records it with :func:`stridelab.store.offsets.record_utc_offsets`: one transaction per batch, an
offset the import set is never replaced, nothing else about the run changes (its stream, analyses and
tags stay). A run is looked at once; a run whose file is gone keeps showing the machine's zone.

It runs after every ``stridelab import`` (the runs of the athlete imported into) and with
``stridelab doctor --fix``; ``doctor`` reports how many runs are still to look at.
"""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from stridelab.io.fit import MAX_FIT_BYTES, FitDecodeError, decode_fit, read_limited, utc_offset_s
from stridelab.store import Store
from stridelab.store import offsets as offsets_repo

__all__ = [
    "BATCH",
    "OffsetBackfill",
    "backfill_utc_offsets",
    "mark_checked",
    "runs_without_local_time",
    "source_bytes",
]

#: runs recorded per transaction (a crash loses at most one batch of reading, never data)
BATCH = 50


@dataclass(frozen=True, slots=True)
class OffsetBackfill:
    """What a back-fill did: runs looked at, runs that gained an offset, runs whose file was gone."""

    checked: int
    gained: int
    missing_files: int

    def to_json(self) -> dict[str, int]:
        return {"checked": self.checked, "gained": self.gained, "missing_files": self.missing_files}


def runs_without_local_time(store: Store, athlete: str | None = None) -> int:
    """How many FIT runs have no UTC offset and were not looked at yet."""
    return len(offsets_repo.unchecked_runs(store, athlete))


def source_bytes(key: str) -> bytes | None:
    """The bytes of a source-cache key (a file, or ``zip!member`` of a zip on disk), decompressed when
    gzip; None when it is not there any more (or sits inside a nested zip)."""
    path, _, member = key.partition("!")
    try:
        if member:
            if "!" in member:
                return None
            with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
                data = read_limited(fh, MAX_FIT_BYTES)
        else:
            with open(path, "rb") as fh:
                data = read_limited(fh, MAX_FIT_BYTES)
        return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (OSError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def _offset_of(activity_id: str, keys: list[str]) -> tuple[int | None, bool]:
    """(the offset, whether a source file with the run's bytes was found)."""
    for key in keys:
        data = source_bytes(key)
        if data is None or hashlib.sha256(data).hexdigest() != activity_id:
            continue  # gone, or no longer this run's bytes
        try:
            return utc_offset_s(decode_fit(data, source=key)), True
        except FitDecodeError:
            return None, True
    return None, False


def backfill_utc_offsets(
    store: Store,
    athlete: str | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> OffsetBackfill:
    """Give the runs of ``athlete`` (all athletes when None) that have no UTC offset the one their
    FIT file holds; ``progress(done, total)`` after each batch."""
    todo = offsets_repo.unchecked_runs(store, athlete)
    gained = missing = 0
    for start in range(0, len(todo), BATCH):
        batch: dict[str, dict[str, int | None]] = {}
        for who, activity_id, keys in todo[start : start + BATCH]:
            offset, found = _offset_of(activity_id, keys)
            missing += 0 if found else 1
            batch.setdefault(who, {})[activity_id] = offset
        for who, found_offsets in batch.items():
            gained += offsets_repo.record_utc_offsets(store, who, found_offsets)
        if progress is not None:
            progress(min(start + BATCH, len(todo)), len(todo))
    return OffsetBackfill(len(todo), gained, missing)


def mark_checked(store: Store, athlete: str, activity_ids: list[str]) -> None:
    """Record runs just imported as looked at: the import read their offset already (or that their
    file holds none), so the back-fill never reads their files again."""
    offsets_repo.record_utc_offsets(store, athlete, dict.fromkeys(activity_ids))
