"""FIT files: decoding (official SDK adapter; fast engine) and conversion to :class:`Activity`."""

from __future__ import annotations

import hashlib

from stridelab.io.fit._activity import activity_from_fit
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
]


def decode_fit(data: bytes, source: str | None = None) -> FitFile:
    """Decode FIT bytes with the decoder ``import`` uses (the single switch point between engines)."""
    return decode_with_sdk(data, source)


def read_activity(data: bytes, *, source_path: str | None = None) -> Activity:
    """Decode FIT bytes into an :class:`Activity` (id = sha256 of ``data``)."""
    fit = decode_fit(data, source_path)
    return activity_from_fit(fit, activity_id=hashlib.sha256(data).hexdigest(), source_path=source_path)
