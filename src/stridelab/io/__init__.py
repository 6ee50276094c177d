"""Readers: files in, typed model containers out (:class:`~stridelab.model.Activity`,
:class:`~stridelab.io.imu.ImuRecording`).

The reader registry picks the reader of a file: each :class:`Reader` declares its ``name``, the name
endings it takes (``extensions``), companion files it reads together with a data file
(``companions``, e.g. a JSON sidecar) and a content ``sniff(head, name)``; its one verb is
``read(path or bytes, ...)``. :func:`read_any` and :func:`find_reader` ask the readers in order,
content first, extension second. The built-in readers are FIT activities (``stridelab.io.fit``) and IMU
recordings with a sidecar (``stridelab.io.imu``); the import service (``stridelab.services.imports``)
uses the same registry, inside folders and zip archives too.

**A new format is one new reader**: copy ``io/fit/_reader.py`` into the format's package (e.g.
``io/gpx/_reader.py``), set ``name``, ``description``, ``extensions``, ``produces`` (the model type
it returns: an ``Activity`` is stored as a run, an ``ImuRecording`` is analysed and stored as one),
write ``sniff`` and ``read``, re-export the class from the package ``__init__`` and add one
``register(...)`` line to :func:`_register_builtins` below (or call :func:`register` at run time).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

from stridelab.io._reader import (
    SNIFF_BYTES,
    NotAnActivityError,
    Reader,
    UnsupportedFileError,
    content_head,
    file_head,
    unsupported,
)
from stridelab.io._reader import archive_reader as _archive_reader
from stridelab.io._reader import find_reader as _find_reader
from stridelab.io._reader import is_companion as _is_companion
from stridelab.io._reader import readers as _readers
from stridelab.io._reader import register as _register
from stridelab.io.imu import ImuRecording
from stridelab.model import Activity

__all__ = [
    "SNIFF_BYTES",
    "NotAnActivityError",
    "ReadResult",
    "Reader",
    "UnsupportedFileError",
    "archive_reader",
    "content_head",
    "file_head",
    "find_reader",
    "is_companion",
    "read_any",
    "reader_for",
    "readers",
    "register",
    "unsupported",
]

#: what a reader returns
ReadResult: TypeAlias = Activity | ImuRecording

_builtins_registered = False


def _register_builtins() -> None:
    """The built-in readers, registered once on first use (importing ``stridelab.io`` stays cheap).
    Order matters for the content sniff: an IMU sidecar names its data file, so it is asked first."""
    global _builtins_registered
    if _builtins_registered:
        return
    _builtins_registered = True
    from stridelab.io.fit import FitReader, read_activity
    from stridelab.io.gpx_tcx import GpxReader, TcxReader
    from stridelab.io.healthkit import HealthKitReader
    from stridelab.io.imu import ImuReader

    _register(ImuReader())
    _register(FitReader(read_activity))
    _register(TcxReader())
    _register(GpxReader())
    _register(HealthKitReader())


def register(reader: Reader[ReadResult]) -> Reader[ReadResult]:
    """Add a reader (asked after the built-in ones; replaces a registered one of the same name)."""
    _register_builtins()
    return _register(reader)


def readers() -> tuple[Reader[ReadResult], ...]:
    """The registered readers, in the order they are asked."""
    _register_builtins()
    return _readers()


def find_reader(head: bytes, name: str) -> Reader[ReadResult] | None:
    """The reader for content whose first bytes are ``head`` (see :func:`content_head`) and whose
    name or path is ``name``: the first whose sniff recognises the content, else the first that
    takes the name's extension, else None."""
    _register_builtins()
    return _find_reader(head, name)


def archive_reader(names: list[str]) -> Reader[ReadResult] | None:
    """The reader that takes a whole zip archive (member ``names``; e.g. an Apple Health export.zip)
    instead of the import walking its members, else None."""
    _register_builtins()
    return _archive_reader(names)


def is_companion(name: str) -> bool:
    """Is ``name`` a companion file (e.g. an IMU sidecar) read together with its data file?"""
    _register_builtins()
    return _is_companion(name)


def reader_for(path: str | Path) -> Reader[ReadResult]:
    """The reader of the regular file at ``path``; :class:`UnsupportedFileError` naming the file when
    no reader takes it (``FileNotFoundError`` / ``IsADirectoryError`` when it is not a file)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise IsADirectoryError(f"{p}: a folder, not a file")
    if not p.is_file():
        raise UnsupportedFileError(str(p), "not a regular file (a pipe, socket or device)")
    reader = find_reader(file_head(p), str(p))
    if reader is None:
        raise unsupported(str(p))
    return reader


def read_any(path: str | Path) -> ReadResult:
    """Read the file at ``path`` with the reader that takes it (content first, extension second).

    Raises :class:`UnsupportedFileError` naming the file when no reader takes it, else what the
    reader raises for an unusable file.
    """
    result = reader_for(path).read(Path(path))
    if not isinstance(result, Activity | ImuRecording):
        raise TypeError(f"{path}: the reader returned a {type(result).__name__}, not a model container")
    return result
