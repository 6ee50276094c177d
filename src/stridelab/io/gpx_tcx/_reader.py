"""The GPX and TCX readers (registered in ``stridelab.io``): ``.gpx`` / ``.tcx`` files, gzip or not,
into :class:`~stridelab.model.Activity` objects, several per file when the file holds several.

Activity ids follow the registry's convention: a file holding one activity gets the sha256 of its
(decompressed) bytes; activity ``i`` (0-based) of a file holding several gets
``sha256(file_sha256_hex + ":" + str(i))``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from stridelab.io._reader import Reader
from stridelab.io.gpx_tcx._build import Parsed, build_activity
from stridelab.io.gpx_tcx._gpx import parse_gpx
from stridelab.io.gpx_tcx._tcx import parse_tcx
from stridelab.io.gpx_tcx._xml import XmlActivityError, load_bytes
from stridelab.model import Activity

__all__ = ["GpxReader", "TcxReader"]


def _activities(
    parse: Callable[[bytes], Iterator[Parsed]], fmt: str, source: str | Path | bytes, name: str | None
) -> Iterator[Activity]:
    data = load_bytes(source)
    if name is None and not isinstance(source, bytes):
        name = str(source)
    if not data.strip():
        raise XmlActivityError("empty file")
    sha = hashlib.sha256(data).hexdigest()

    def make(parsed: Parsed, activity_id: str) -> Activity:
        return build_activity(
            parsed.legs,
            activity_id=activity_id,
            fmt=fmt,
            source_path=name,
            product=parsed.product,
            notes=parsed.notes,
        )

    pending: Parsed | None = None
    index = 0
    for parsed in parse(data):
        if pending is not None:  # a second one: ids are per position
            yield make(pending, hashlib.sha256(f"{sha}:{index}".encode()).hexdigest())
            index += 1
        pending = parsed
    if pending is not None:
        yield make(pending, sha if index == 0 else hashlib.sha256(f"{sha}:{index}".encode()).hexdigest())


class _XmlReader(Reader[Activity]):
    produces: ClassVar[type] = Activity
    multi: ClassVar[bool] = True
    _root: ClassVar[bytes]
    _fmt: ClassVar[str]

    def sniff(self, head: bytes, name: str) -> bool:
        return self._root in head

    def _parse(self, data: bytes) -> Iterator[Parsed]:
        raise NotImplementedError

    def read(self, source: str | Path | bytes, *, name: str | None = None, **options: Any) -> Activity:
        """The file's first activity (:meth:`read_all` yields every one)."""
        for activity in self.read_all(source, name=name, **options):
            return activity
        raise XmlActivityError("no activity in the file")  # pragma: no cover - parse raises first

    def read_all(
        self, source: str | Path | bytes, *, name: str | None = None, **options: Any
    ) -> Iterator[Activity]:
        if options:
            raise TypeError(f"the {self._fmt.upper()} reader takes no options, got {sorted(options)}")
        return _activities(self._parse, self._fmt, source, name)


class TcxReader(_XmlReader):
    """Garmin Training Center (TCX) v2 activities: several ``<Activity>`` per file, multisport
    sessions (one activity, one session per leg), laps, ActivityExtension v2 speed/cadence/power."""

    name: ClassVar[str] = "tcx"
    description: ClassVar[str] = "TCX activities (.tcx, .tcx.gz)"
    extensions: ClassVar[tuple[str, ...]] = (".tcx", ".tcx.gz")
    _root: ClassVar[bytes] = b"<TrainingCenterDatabase"
    _fmt: ClassVar[str] = "tcx"

    def _parse(self, data: bytes) -> Iterator[Parsed]:
        return parse_tcx(data)


class GpxReader(_XmlReader):
    """GPX 1.0/1.1 tracks (one activity per timed ``<trk>``) with Garmin TrackPointExtension v1/v2,
    power and GPXDATA extensions; segment breaks are pauses; route-only files are refused."""

    name: ClassVar[str] = "gpx"
    description: ClassVar[str] = "GPX tracks (.gpx, .gpx.gz)"
    extensions: ClassVar[tuple[str, ...]] = (".gpx", ".gpx.gz")
    _root: ClassVar[bytes] = b"<gpx"
    _fmt: ClassVar[str] = "gpx"

    def _parse(self, data: bytes) -> Iterator[Parsed]:
        return parse_gpx(data)
