"""Batch planning: a manifest of files in, batches out -- pure, streaming, memory flat.

A manifest is any iterable of :class:`ManifestEntry` (path, size, mtime, athlete, optional sha256):
a folder walk (:func:`scan`), a CSV an object-store listing produced, or a simulated one. The planner
(:func:`plan_batches`) is a generator: it holds one open batch per athlete (at most ``max_files``
entries each), so its memory grows with the number of athletes, never with the manifest's length.
A batch holds one athlete's files and closes at ``max_files`` files or ``max_bytes`` bytes
(a file larger than ``max_bytes`` is a batch of its own). Batch ids are deterministic (the athlete and
the entries' paths), so a resumed plan names the same batches.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from stridelab.io import is_companion, readers
from stridelab.store.imports import file_fingerprint

__all__ = [
    "Batch",
    "ManifestEntry",
    "athlete_mapping",
    "fingerprint",
    "plan_batches",
    "scan",
]

#: default cut of a batch: files and bytes
DEFAULT_MAX_FILES = 64
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One file to import: where it is, its size and mtime (ns), whose it is, its sha256 when known."""

    path: str
    size: int
    mtime_ns: int
    athlete: str
    sha256: str | None = None


def fingerprint(entry: ManifestEntry) -> str:
    """The import's source fingerprint of a file on disk (``file:<size>:<mtime_ns>``): the same as the
    local import's, so either import skips what the other stored."""
    return file_fingerprint(entry.size, entry.mtime_ns)


@dataclass(frozen=True, slots=True)
class Batch:
    """Files of one athlete decoded together by one worker."""

    batch_id: str
    athlete: str
    entries: tuple[ManifestEntry, ...]

    @property
    def n_bytes(self) -> int:
        return sum(e.size for e in self.entries)


def _batch(athlete: str, entries: list[ManifestEntry]) -> Batch:
    h = hashlib.sha256(athlete.encode())
    for e in entries:
        h.update(b"\0" + e.path.encode("utf-8", "surrogateescape"))
    return Batch(h.hexdigest()[:16], athlete, tuple(entries))


def plan_batches(
    manifest: Iterable[ManifestEntry],
    *,
    max_files: int = DEFAULT_MAX_FILES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Batch]:
    """Cut ``manifest`` into batches of one athlete each, at most ``max_files`` files and ``max_bytes``
    bytes (a larger file alone). A generator: batches come out as they fill; the open ones at the end."""
    if max_files < 1 or max_bytes < 1:
        raise ValueError("max_files and max_bytes must be >= 1")
    open_: dict[str, tuple[list[ManifestEntry], int]] = {}
    for entry in manifest:
        entries, n_bytes = open_.get(entry.athlete, ([], 0))
        if entries and n_bytes + entry.size > max_bytes:
            yield _batch(entry.athlete, entries)
            entries, n_bytes = [], 0
        entries.append(entry)
        n_bytes += entry.size
        if len(entries) >= max_files or n_bytes >= max_bytes:
            yield _batch(entry.athlete, entries)
            open_.pop(entry.athlete, None)
        else:
            open_[entry.athlete] = (entries, n_bytes)
    for athlete, (entries, _) in open_.items():
        yield _batch(athlete, entries)


def athlete_mapping(path: Path) -> dict[str, str]:
    """Read a ``csv:MAPPING`` file: columns ``path`` (a file or folder, relative to the import root or
    absolute) and ``athlete``. Raises ValueError naming the file and the problem."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not {"path", "athlete"} <= set(reader.fieldnames):
                raise ValueError(f"{path}: an athlete mapping needs the columns 'path' and 'athlete'")
            out: dict[str, str] = {}
            for i, row in enumerate(reader, start=2):
                if not row["path"] or not row["athlete"]:
                    raise ValueError(f"{path}: line {i}: empty path or athlete")
                out[os.path.normpath(row["path"])] = row["athlete"]
            return out
    except UnicodeDecodeError:
        raise ValueError(
            f"{path}: the athlete mapping is not UTF-8 text (a CSV with 'path,athlete')"
        ) from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the athlete mapping ({exc.strerror or exc})") from None


def _takes(name: str) -> bool:
    return not is_companion(name) and any(r.takes_name(name) for r in readers())


def _athlete_of(
    root: Path, path: Path, athlete_from: str, default: str, mapping: Mapping[str, str] | None
) -> str:
    rel = path.relative_to(root) if root.is_dir() else Path(path.name)
    if athlete_from == "folder":
        return rel.parts[0] if len(rel.parts) > 1 else default
    if mapping is not None:
        for candidate in (str(rel), str(path)):
            probe = os.path.normpath(candidate)
            while probe not in ("", ".", os.sep):
                if probe in mapping:
                    return mapping[probe]
                probe = os.path.dirname(probe)
    return default


def scan(
    paths: Iterable[Path | str],
    *,
    athlete: str = "me",
    athlete_from: str | None = None,
) -> Iterator[ManifestEntry]:
    """Walk files and folders (recursively, in name order) into manifest entries: the files a reader
    takes by name (companions excluded). ``athlete_from``: None (everything is ``athlete``),
    ``"folder"`` (the first folder under each given folder names the athlete) or ``"csv:MAPPING"``."""
    mapping = None
    mode = athlete_from or "none"
    if mode.startswith("csv:"):
        mapping = athlete_mapping(Path(mode[4:]))
    elif mode not in ("none", "folder"):
        raise ValueError(f"--athlete-from {athlete_from!r}: use 'folder' or 'csv:MAPPING'")
    for given in paths:
        root = Path(given)
        if root.is_file():
            st = root.stat()
            yield ManifestEntry(
                str(root), st.st_size, st.st_mtime_ns, _athlete_of(root, root, mode, athlete, mapping)
            )
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                if not _takes(name):
                    continue
                path = Path(dirpath) / name
                st = path.stat()
                yield ManifestEntry(
                    str(path), st.st_size, st.st_mtime_ns, _athlete_of(root, path, mode, athlete, mapping)
                )
