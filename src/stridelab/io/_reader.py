"""The reader base class and the registry that picks a reader for a file.

A reader is one file format: it declares a ``name``, the name endings (``extensions``) it takes when
the content says nothing, the endings of ``companions`` (files read together with a data file, never
on their own) and a content sniff; its one verb :meth:`Reader.read` returns a typed model container.
The registry asks the readers in registration order: content first (:meth:`Reader.sniff` on the first
:data:`SNIFF_BYTES` of the content, decompressed when the file is gzip), extension second.
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

__all__ = [
    "SNIFF_BYTES",
    "NotAnActivityError",
    "Reader",
    "UnsupportedFileError",
    "archive_reader",
    "content_head",
    "file_head",
    "find_reader",
    "is_companion",
    "readers",
    "register",
    "unsupported",
]

#: bytes of content a reader's sniff sees (at least; fewer for shorter files)
SNIFF_BYTES = 64
_GZIP_MAGIC = b"\x1f\x8b"
#: compressed bytes read to find the first :data:`SNIFF_BYTES` of a gzip file's content
_RAW_HEAD_BYTES = 4096

T_co = TypeVar("T_co", covariant=True)


class UnsupportedFileError(ValueError):
    """No registered reader takes a file. ``name`` is the file, ``reason`` says what is read."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class NotAnActivityError(ValueError):
    """A sound file of a format a reader takes that holds no activity by design (a FIT settings,
    monitoring, workout, course or weight file...). Any reader raises it; the import reports such a
    file as "skipped: not an activity (...)", which is not a failure. ``kind`` names what the file is
    (e.g. ``"file type settings"``), ``reason`` is the one-line text reported."""

    def __init__(self, kind: str, *, source: str | None = None) -> None:
        self.kind = kind
        self.reason = f"not an activity ({kind})"
        self.source = source
        super().__init__(f"{source}: {self.reason}" if source else self.reason)


class Reader(ABC, Generic[T_co]):
    """One file format. Subclass, set the class attributes, implement :meth:`sniff` and :meth:`read`,
    and :func:`register` an instance (``stridelab.io`` registers the built-in ones).

    Instances are small and picklable: the import service hands them to its worker processes.
    """

    #: short unique name, e.g. ``"fit"``
    name: ClassVar[str]
    #: what people call the files it reads (error messages), e.g. ``"FIT activities (.fit, .fit.gz)"``
    description: ClassVar[str]
    #: lower-case name endings taken when no reader's sniff recognises the content
    extensions: ClassVar[tuple[str, ...]] = ()
    #: lower-case name endings of companion files (e.g. a JSON sidecar) read together with a data file
    companions: ClassVar[tuple[str, ...]] = ()
    #: the model container :meth:`read` returns (the import service routes on it)
    produces: ClassVar[type]
    #: can one file hold several results (a TCX with several activities, an Apple Health export)?
    #: Then :meth:`read_all` yields them one by one and the import service stores each.
    multi: ClassVar[bool] = False
    #: does :meth:`read_all` stream a path (a file larger than memory, e.g. a multi-GB export)? Then
    #: the import service hands it the path instead of the file's bytes.
    streams: ClassVar[bool] = False
    #: is the result's id the sha256 of the bytes read? Then :meth:`read` of bytes takes
    #: ``sha256=`` (their hex digest, when the caller computed it already) instead of hashing again.
    content_id: ClassVar[bool] = False

    @abstractmethod
    def sniff(self, head: bytes, name: str) -> bool:
        """Does the content (``head``: its first :data:`SNIFF_BYTES`, decompressed when gzip) belong
        to this format? ``name`` is the file's path on disk, or a name only (a zip member, an upload):
        a reader whose files come with a companion file looks for it there."""

    @abstractmethod
    def read(self, source: str | Path | bytes, *, name: str | None = None, **options: Any) -> T_co:
        """Read a file (its path, or its bytes) into a model container. ``name`` is what the result
        records as its source (default: the path). Raises ``ValueError``/``OSError`` subclasses with
        a one-line reason when the file is unusable, and :class:`NotAnActivityError` when it is a
        sound file of the format that holds no activity by design (the import skips it)."""

    def read_all(
        self, source: str | Path | bytes, *, name: str | None = None, **options: Any
    ) -> Iterator[T_co]:
        """Every result in a file, one at a time (default: the one :meth:`read` returns). A reader with
        :attr:`multi` set overrides this to stream the file; each activity it yields carries its own
        ``id`` (a sha256 hex: by convention of the file's bytes and the activity's place in the file,
        so that re-reading the same file yields the same ids)."""
        yield self.read(source, name=name, **options)

    @classmethod
    def takes_archive(cls, names: list[str]) -> bool:
        """Does this reader take a whole zip archive whose member names are ``names`` (e.g. an Apple
        Health ``export.zip``), instead of the import walking its members? Default: no."""
        return False

    def takes_name(self, name: str) -> bool:
        """Does ``name`` end with one of :attr:`extensions` (any case)?"""
        return bool(self.extensions) and name.lower().endswith(self.extensions)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


_READERS: list[Reader[Any]] = []


def register(reader: Reader[Any]) -> Reader[Any]:
    """Add ``reader`` to the registry (after the ones there); replaces one of the same name."""
    for i, known in enumerate(_READERS):
        if known.name == reader.name:
            _READERS[i] = reader
            return reader
    _READERS.append(reader)
    return reader


def readers() -> tuple[Reader[Any], ...]:
    """The registered readers, in the order they are asked."""
    return tuple(_READERS)


def find_reader(head: bytes, name: str) -> Reader[Any] | None:
    """The reader for a file: the first whose sniff recognises the content, else the first that takes
    the name's extension, else None."""
    for reader in _READERS:
        if reader.sniff(head, name):
            return reader
    for reader in _READERS:
        if reader.takes_name(name):
            return reader
    return None


def archive_reader(names: list[str]) -> Reader[Any] | None:
    """The first reader that takes a whole zip archive with member ``names``, else None."""
    return next((r for r in _READERS if r.takes_archive(names)), None)


def is_companion(name: str) -> bool:
    """Is ``name`` a companion file that some reader reads together with its data file?"""
    lower = name.lower()
    return any(r.companions and lower.endswith(r.companions) for r in _READERS)


def unsupported(name: str) -> UnsupportedFileError:
    """The error for a file no reader takes (naming the file and what can be read)."""
    kinds = " or ".join(r.description for r in _READERS) or "nothing (no reader registered)"
    return UnsupportedFileError(name, f"not a file stridelab reads (it reads {kinds})")


def content_head(raw: bytes) -> bytes:
    """The first :data:`SNIFF_BYTES` of the content whose first bytes are ``raw``: decompressed
    when ``raw`` starts a gzip stream (as far as it can be; else the raw bytes)."""
    if raw[:2] == _GZIP_MAGIC:
        try:
            inflated = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, SNIFF_BYTES)
        except zlib.error:
            return raw[:SNIFF_BYTES]
        return inflated[:SNIFF_BYTES]
    return raw[:SNIFF_BYTES]


def file_head(path: str | Path) -> bytes:
    """:func:`content_head` of a regular file (b"" when it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            return content_head(fh.read(_RAW_HEAD_BYTES))
    except OSError:
        return b""
