"""The Apple Health reader: ``export.zip`` (taken whole: ``apple_health_export/export.xml`` and its
``workout-routes/*.gpx``) or ``export.xml`` (routes from the ``workout-routes`` folder beside it).

``read_all(..., progress=fn)`` reports how far the reading is: ``fn(done, total)`` in bytes of
``export.xml`` read, over both passes (``total`` = twice its size), at most about 200 times, and once
more at the end with ``done == total``. An export.zip may also be given as an open, seekable binary
stream (a zip nested in another zip, streamed from its member without extracting it)."""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from stridelab.io._reader import Reader
from stridelab.io.healthkit._daily import DailyGaitMetrics
from stridelab.io.healthkit._export import HealthExportError, Opener, RouteLoader, read_export
from stridelab.model import Activity

__all__ = ["MAX_ROUTE_BYTES", "MAX_ZIP_RATIO", "HealthKitReader", "ProgressFn"]

#: ``progress(done_bytes, total_bytes)``
ProgressFn = Callable[[int, int], None]

#: largest route GPX read (a day-long route is a few MB)
MAX_ROUTE_BYTES = 64 * 1024 * 1024
#: zip-bomb guard: a member expanding more than this is refused (XML compresses ~10-20:1)
MAX_ZIP_RATIO = 200.0
_EXPORT = "export.xml"


def _export_member(names: list[str]) -> str | None:
    """The export.xml member of an Apple Health export.zip (``apple_health_export/export.xml``, or a
    top-level ``export.xml`` beside ``export_cda.xml``)."""
    for n in names:
        if (
            posixpath.basename(n) == _EXPORT
            and posixpath.basename(posixpath.dirname(n)) == "apple_health_export"
        ):
            return n
    if _EXPORT in names and "export_cda.xml" in names:
        return _EXPORT
    return None


class _Limited(io.RawIOBase):
    """A zip member's stream that refuses to expand past ``limit`` bytes (a lying header)."""

    def __init__(self, raw: IO[bytes], limit: int, name: str) -> None:
        self._raw, self._left, self._name = raw, limit, name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        self._left -= len(data)
        if self._left < 0:
            raise HealthExportError(
                f"{self._name}: refused: expands past its declared size (a zip bomb guard)"
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Progress:
    """Bytes read over both passes, reported about every 0.5 % (never more often)."""

    def __init__(self, fn: ProgressFn | None, xml_bytes: int) -> None:
        self.fn, self.total = fn, max(2 * xml_bytes, 1)
        self.done = self.reported = 0
        self.step = max(self.total // 200, 1)

    def add(self, n: int) -> None:
        self.done = min(self.done + n, self.total)
        if self.fn is not None and self.done - self.reported >= self.step:
            self.reported = self.done
            self.fn(self.done, self.total)

    def finish(self) -> None:
        if self.fn is not None:
            self.fn(self.total, self.total)

    def wrap(self, opener: Opener) -> Opener:
        if self.fn is None:
            return opener
        return lambda: io.BufferedReader(_Counted(opener(), self.add), 1 << 20)


class _Counted(io.RawIOBase):
    """A binary stream that tells ``tick`` how many bytes each read returned."""

    def __init__(self, raw: IO[bytes], tick: Callable[[int], None]) -> None:
        self._raw, self._tick = raw, tick

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        self._tick(len(data))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class HealthKitReader(Reader[Activity]):
    """Apple Health exports. :meth:`read_all` yields every workout as an :class:`Activity` (records in
    SI from the samples inside its span; position and altitude from its route), then the export's
    :class:`~stridelab.io.healthkit.DailyGaitMetrics`. The source is streamed twice (never held in
    memory); pass a path for a large export.

    Activity ids: sha256 of the workout's source, type and time span -- the same workout keeps its id
    in every later export of the same phone, so re-importing a newer export adds only new workouts.
    """

    name: ClassVar[str] = "healthkit"
    description: ClassVar[str] = "Apple Health exports (export.zip, export.xml)"
    extensions: ClassVar[tuple[str, ...]] = ()
    produces: ClassVar[type] = Activity
    multi: ClassVar[bool] = True
    streams: ClassVar[bool] = True

    def sniff(self, head: bytes, name: str) -> bool:
        return b"<!DOCTYPE HealthData" in head or b"<HealthData" in head

    @classmethod
    def takes_archive(cls, names: list[str]) -> bool:
        return _export_member(names) is not None

    def read(self, source: str | Path | bytes, *, name: str | None = None, **options: Any) -> Activity:
        for result in self.read_all(source, name=name, **options):
            if isinstance(result, Activity):
                return result
        raise HealthExportError(f"{name or source!s:.200}: no workout in the export")

    def read_all(  # type: ignore[override]
        self,
        source: str | Path | bytes | IO[bytes],
        *,
        name: str | None = None,
        progress: ProgressFn | None = None,
        **options: Any,
    ) -> Iterator[Activity | DailyGaitMetrics]:
        if options:
            raise TypeError(f"the Apple Health reader takes no options but progress, got {sorted(options)}")
        if not isinstance(source, str | Path | bytes):  # an open export.zip (seekable)
            yield from self._from_zip(source, name or "<stream>", progress)
            return
        label = name if name is not None else ("<bytes>" if isinstance(source, bytes) else str(source))
        if isinstance(source, bytes):
            if source[:2] == b"PK":
                yield from self._from_zip(io.BytesIO(source), label, progress)
            else:
                counter = _Progress(progress, len(source))
                yield from read_export(label, counter.wrap(lambda: io.BytesIO(source)), lambda _p: None)
                counter.finish()
            return
        path = Path(source)
        if zipfile.is_zipfile(path):
            yield from self._from_zip(path, label, progress)
            return
        routes = path.parent

        def load_route(ref: str) -> bytes | None:
            p = routes / ref.lstrip("/")
            try:
                if p.stat().st_size > MAX_ROUTE_BYTES:
                    return None
                return p.read_bytes()
            except OSError:
                return None

        def opener() -> IO[bytes]:
            return path.open("rb")

        counter = _Progress(progress, path.stat().st_size)
        yield from read_export(label, counter.wrap(opener), load_route)
        counter.finish()

    def _from_zip(
        self, source: Path | IO[bytes], label: str, progress: ProgressFn | None = None
    ) -> Iterator[Activity | DailyGaitMetrics]:
        try:
            zf = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as exc:
            raise HealthExportError(f"{label}: not a readable zip archive: {exc}") from None
        with zf:
            member = _export_member(zf.namelist())
            if member is None:
                raise HealthExportError(f"{label}: no apple_health_export/export.xml in the archive")
            info = zf.getinfo(member)
            if info.file_size / max(info.compress_size, 1) > MAX_ZIP_RATIO:
                raise HealthExportError(
                    f"{label}!{member}: refused: expands {info.file_size / max(info.compress_size, 1):.0f}:1 "
                    "(a zip bomb guard)"
                )
            base = posixpath.dirname(member)
            names = set(zf.namelist())

            def opener() -> IO[bytes]:
                return io.BufferedReader(
                    _Limited(zf.open(member), info.file_size, f"{label}!{member}"), 1 << 20
                )

            def load_route(ref: str) -> bytes | None:
                inner = posixpath.normpath(posixpath.join(base, ref.lstrip("/")))
                if inner not in names:
                    return None
                ri = zf.getinfo(inner)
                if ri.file_size > MAX_ROUTE_BYTES or ri.file_size / max(ri.compress_size, 1) > MAX_ZIP_RATIO:
                    return None
                with zf.open(ri) as fh:
                    return fh.read(MAX_ROUTE_BYTES + 1)[:MAX_ROUTE_BYTES]

            counter = _Progress(progress, info.file_size)
            route_t: RouteLoader = load_route
            yield from read_export(f"{label}!{member}", counter.wrap(opener), route_t)
            counter.finish()
