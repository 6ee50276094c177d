"""FIT files: decoding (official SDK adapter; fast engine) and conversion to :class:`Activity`."""

from __future__ import annotations

import hashlib

from stridelab.io.fit._activity import activity_from_fit
from stridelab.io.fit._engine import decode_fit_bytes, read_fit
from stridelab.io.fit._sdk import decode_with_sdk
from stridelab.io.fit._types import DeveloperFieldInfo, FitDecodeError, FitFile, FitProblem
from stridelab.model import Activity

__all__ = [
    "DeveloperFieldInfo",
    "FitDecodeError",
    "FitFile",
    "FitProblem",
    "decode_fit",
    "decode_with_sdk",
    "read_activity",
    "read_fit",
]


def decode_fit(data: bytes, source: str | None = None) -> FitFile:
    """Decode FIT bytes with the decoder ``import`` uses (the single switch point between engines).

    The fast engine (:func:`read_fit`) in strict mode: a damaged file (bad CRC, truncation, ...)
    raises :class:`FitDecodeError` naming the fault and its offset, as the SDK adapter did; pass
    ``strict=False`` to :func:`read_fit` to recover what a damaged file holds instead. The SDK
    adapter stays available as :func:`decode_with_sdk` (the oracle).
    """
    return decode_fit_bytes(data, strict=True, source=source)


def read_activity(data: bytes, *, source_path: str | None = None) -> Activity:
    """Decode FIT bytes into an :class:`Activity` (id = sha256 of ``data``)."""
    fit = decode_fit(data, source_path)
    return activity_from_fit(fit, activity_id=hashlib.sha256(data).hexdigest(), source_path=source_path)
