"""The FIT reader: ``.fit`` / ``.fit.gz`` files (recognised by the ``.FIT`` header signature) into an
:class:`~stridelab.model.Activity`.

The decoding itself is the package's public :func:`stridelab.io.fit.read_activity`, which sits above
this module (``stridelab.io.fit`` re-exports the reader): ``stridelab.io`` builds the registered
instance as ``FitReader(read_activity)``.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from stridelab.io._reader import Reader
from stridelab.io.fit._types import FitDecodeError
from stridelab.model import Activity

__all__ = ["MAX_FIT_BYTES", "FitReader", "gunzip_limited", "read_limited"]

#: largest FIT content read (decompressed); real activities are < 50 MB
MAX_FIT_BYTES = 256 * 1024 * 1024

ReadActivity = Callable[..., Activity]


class FitReader(Reader[Activity]):
    """FIT activities. :meth:`read` takes the bytes (gzip-compressed or not) or a path; the activity
    id is the sha256 of the (decompressed) FIT bytes. A damaged file keeps what precedes each fault
    (listed in ``Activity.problems``); :class:`FitDecodeError` when nothing usable is left.

    ``read_activity(data, *, source_path)`` decodes FIT bytes (:func:`stridelab.io.fit.read_activity`).
    """

    name: ClassVar[str] = "fit"
    description: ClassVar[str] = "FIT activities (.fit, .fit.gz)"
    extensions: ClassVar[tuple[str, ...]] = (".fit", ".fit.gz")
    produces: ClassVar[type] = Activity
    content_id: ClassVar[bool] = True

    def __init__(self, read_activity: ReadActivity) -> None:
        self._read_activity = read_activity

    def sniff(self, head: bytes, name: str) -> bool:
        return len(head) >= 12 and head[8:12] == b".FIT"

    def read(self, source: str | Path | bytes, *, name: str | None = None, **options: Any) -> Activity:
        sha256 = options.pop("sha256", None)  # the digest of ``source`` (bytes), when known
        if options:
            raise TypeError(f"the FIT reader takes no option but sha256, got {sorted(options)}")
        if isinstance(source, bytes):
            data = source
        else:
            sha256 = None
            with open(source, "rb") as fh:
                data = read_limited(fh, MAX_FIT_BYTES)
            name = name if name is not None else str(source)
        if data[:2] == b"\x1f\x8b":
            data = gunzip_limited(data, MAX_FIT_BYTES)
            sha256 = None  # the digest given was of the compressed bytes
        if len(data) < 12:
            raise FitDecodeError("not a FIT file: too short for a FIT header" if data else "empty file")
        if sha256 is not None:
            return self._read_activity(data, source_path=name, sha256=sha256)
        return self._read_activity(data, source_path=name)


def read_limited(fh: Any, limit: int) -> bytes:
    """Read (and close) a file object, refusing more than ``limit`` bytes (a gzip/zip bomb guard)."""
    with fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FitDecodeError(
            f"refused: more than {limit:,} bytes (no FIT activity is that large; a gzip/zip bomb guard)"
        )
    return bytes(data)


def gunzip_limited(data: bytes, limit: int) -> bytes:
    """Decompress gzip ``data`` (at most ``limit`` bytes out); :class:`FitDecodeError` when corrupt."""
    try:
        return read_limited(gzip.GzipFile(fileobj=io.BytesIO(data)), limit)
    except (OSError, EOFError) as exc:
        raise FitDecodeError(f"corrupt gzip data: {exc}") from exc
