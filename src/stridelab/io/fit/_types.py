"""Decoder-independent result types of FIT decoding (shared by the SDK adapter and the fast engine)."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

__all__ = ["TOLERATED_KINDS", "DeveloperFieldInfo", "FitDecodeError", "FitFile", "FitProblem"]

#: problem kinds that are quirks of a sound file (the official SDK decodes them the same way), not damage
TOLERATED_KINDS: frozenset[str] = frozenset({"misaligned_field"})


class FitDecodeError(ValueError):
    """A FIT file could not be decoded (strict mode), with the byte offset of the fault."""

    def __init__(self, message: str, *, offset: int | None = None, source: str | None = None) -> None:
        self.reason = message
        self.offset = offset
        self.source = source
        where = f" at byte {offset}" if offset is not None else ""
        prefix = f"{source}: " if source else ""
        super().__init__(f"{prefix}{message}{where}")


@dataclass(frozen=True, slots=True)
class FitProblem:
    """Something wrong in a file that lenient decoding worked around.

    kind is one of: ``header_crc``, ``file_crc``, ``truncated``, ``undefined_local_message``,
    ``data_size``, ``misaligned_field``, ``bad_header``, ``other``. Every kind but the ones in
    :data:`TOLERATED_KINDS` means the file is damaged (see :attr:`damaged`).
    """

    kind: str
    offset: int
    message: str

    @property
    def damaged(self) -> bool:
        """True when the problem is damage (data may be lost), False for a tolerated quirk."""
        return self.kind not in TOLERATED_KINDS


@dataclass(frozen=True, slots=True)
class DeveloperFieldInfo:
    """Description of one developer field (from ``field_description`` + ``developer_data_id``)."""

    developer_data_index: int
    field_definition_number: int
    name: str | None
    units: str | None
    base_type: int | None
    application_id: str | None  # hex, when the developer_data_id message gives one
    manufacturer_id: int | None
    native_mesg_num: int | None
    native_field_num: int | None
    column: str  # collision-free column name used in FitFile.messages


@dataclass(slots=True)
class FitFile:
    """A decoded FIT file.

    ``messages`` maps the official message name (``record``, ``lap``, ``session``, ``event``,
    ``device_info``, ``file_id``...; unknown ones ``mesg_<num>``) to a DataFrame with one row per
    message in file order and one column per field as the official profile names it (unknown fields
    ``field_<num>``), with scale/offset applied, enums as strings, date_time fields as tz-aware UTC
    timestamps, invalid values as missing. Developer values appear under
    ``DeveloperFieldInfo.column``.
    """

    messages: MutableMapping[str, pd.DataFrame]
    developer_fields: list[DeveloperFieldInfo] = field(default_factory=list)
    problems: list[FitProblem] = field(default_factory=list)

    def get(self, name: str) -> pd.DataFrame:
        """The messages of one type, or an empty DataFrame."""
        return self.messages.get(name, pd.DataFrame())

    def columns(self, name: str) -> tuple[int, dict[str, Any]]:
        """The number of messages of one type and their columns by field name (arrays, or Series),
        without building a DataFrame when the decoder kept arrays (cheap for the record columns).
        The arrays may be shared with ``messages``: do not modify them."""
        fast = getattr(self.messages, "columns", None)
        if fast is not None:
            result: tuple[int, dict[str, Any]] = fast(name)
            return result
        frame = self.messages.get(name)
        return (0, {}) if frame is None else (len(frame), {str(c): frame[c] for c in frame.columns})

    def rows(self, name: str) -> list[dict[str, Any]]:
        """The messages of one type as a list of dicts (cheap for small message types)."""
        fast = getattr(self.messages, "rows", None)
        if fast is not None:
            result: list[dict[str, Any]] = fast(name)
            return result
        frame = self.messages.get(name)
        # column labels of decoded messages are field names (str)
        return [] if frame is None else cast("list[dict[str, Any]]", frame.to_dict("records"))
