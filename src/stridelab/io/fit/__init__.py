"""FIT files: decoding (official SDK adapter; fast engine), conversion to :class:`Activity`, the
profile-driven encoder (:class:`FitWriter`, shared with the simulator) and the activity export
(:func:`write_activity_fit`)."""

from __future__ import annotations

import hashlib

from stridelab.io.fit._activity import activity_from_fit, utc_offset_s
from stridelab.io.fit._decoder import decode_fit_bytes, read_fit
from stridelab.io.fit._encoder import (
    FIT_EPOCH_UNIX_S,
    DeveloperFieldSpec,
    FieldSpec,
    FitWriter,
    Message,
    MessageBlock,
    crc16,
    encode_with_sdk,
    field_spec,
    garmin_product_id,
    mesg_num,
    quantise,
)
from stridelab.io.fit._reader import MAX_FIT_BYTES, FitReader, gunzip_limited, read_limited
from stridelab.io.fit._sdk import decode_with_sdk
from stridelab.io.fit._types import DeveloperFieldInfo, FitDecodeError, FitFile, FitProblem
from stridelab.io.fit._writer import activity_messages, write_activity_fit
from stridelab.model import Activity

__all__ = [
    "FIT_EPOCH_UNIX_S",
    "MAX_FIT_BYTES",
    "DeveloperFieldInfo",
    "DeveloperFieldSpec",
    "FieldSpec",
    "FitDecodeError",
    "FitFile",
    "FitProblem",
    "FitReader",
    "FitWriter",
    "Message",
    "MessageBlock",
    "activity_messages",
    "crc16",
    "decode_fit",
    "decode_with_sdk",
    "encode_with_sdk",
    "field_spec",
    "garmin_product_id",
    "gunzip_limited",
    "mesg_num",
    "quantise",
    "read_activity",
    "read_fit",
    "read_limited",
    "utc_offset_s",
    "write_activity_fit",
]


def decode_fit(data: bytes, source: str | None = None) -> FitFile:
    """Decode FIT bytes with the decoder ``import`` uses (the single switch point between engines).

    The fast engine (:func:`read_fit`) in lenient mode: a damaged file (bad CRC, truncation, ...)
    yields every complete message before the fault plus ``problems`` naming each fault and its
    offset. The SDK adapter stays available as :func:`decode_with_sdk` (the oracle).
    """
    return decode_fit_bytes(data, strict=False, source=source)


def read_activity(data: bytes, *, source_path: str | None = None, sha256: str | None = None) -> Activity:
    """Decode FIT bytes into an :class:`Activity` (id = sha256 of ``data``; ``sha256``: that digest,
    when the caller has it already).

    What a damaged file still holds is kept; its faults are listed in ``Activity.problems``.
    Raises :class:`FitDecodeError` when nothing usable is left (not FIT, empty, no activity).
    """
    fit = decode_fit(data, source_path)
    if len(fit.messages) == 0:
        first = fit.problems[0] if fit.problems else None
        reason = first.message if first else "no FIT messages in the file"
        raise FitDecodeError(reason, offset=first.offset if first else None, source=source_path)
    try:
        activity_id = sha256 if sha256 is not None else hashlib.sha256(data).hexdigest()
        return activity_from_fit(fit, activity_id=activity_id, source_path=source_path)
    except FitDecodeError as exc:
        if not fit.problems:
            raise
        faults = "; ".join(f"{p.message} (byte {p.offset})" for p in fit.problems[:3])
        raise FitDecodeError(f"{exc.reason}; the file is damaged: {faults}", source=source_path) from exc
