"""FIT base types and the message profile, taken from the official SDK (``garmin_fit_sdk``).

Nothing here is hand-written profile data: message/field/type tables come from
``garmin_fit_sdk.Profile`` and base types from ``garmin_fit_sdk.fit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from garmin_fit_sdk import Profile
from garmin_fit_sdk import fit as _sdk_fit

__all__ = [
    "BASE_TYPES",
    "FIELD_TYPE_TO_BASE_TYPE",
    "NUMERIC_FIELD_TYPES",
    "BaseType",
    "message_profile",
    "profile_version",
    "type_values",
]

_NP_CODES: Final[dict[str, str]] = {
    "B": "u1", "b": "i1", "h": "i2", "H": "u2", "i": "i4", "I": "u4",
    "f": "f4", "d": "f8", "q": "i8", "Q": "u8", "s": "S",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BaseType:
    """One FIT base type: size in bytes, numpy kind code, invalid sentinel (None for floats/strings)."""

    id: int
    name: str
    size: int
    np_code: str  # "u1", "i2", "f4", ... or "S" for strings
    invalid: int | None  # compared to the decoded value; floats never compare equal (SDK semantics)
    is_string: bool
    is_float: bool
    is_byte: bool


def _build_base_types() -> dict[int, BaseType]:
    out: dict[int, BaseType] = {}
    names = _sdk_fit.BASE_TYPE_TO_FIELD_TYPE
    for bid, d in _sdk_fit.BASE_TYPE_DEFINITIONS.items():
        code = _NP_CODES[d["type_code"]]
        is_float = code in ("f4", "f8")
        out[bid] = BaseType(
            id=bid,
            name=names[bid],
            size=int(d["size"]),
            np_code=code,
            invalid=None if is_float or code == "S" else int(d["invalid"]),
            is_string=code == "S",
            is_float=is_float,
            is_byte=bid == _sdk_fit.BASE_TYPE["BYTE"],
        )
    return out


BASE_TYPES: Final[dict[int, BaseType]] = _build_base_types()
BASE_TYPE_MASK: Final[int] = _sdk_fit.BASE_TYPE_MASK
UINT8: Final[int] = _sdk_fit.BASE_TYPE["UINT8"]
BYTE: Final[int] = _sdk_fit.BASE_TYPE["BYTE"]
STRING: Final[int] = _sdk_fit.BASE_TYPE["STRING"]
FIELD_TYPE_TO_BASE_TYPE: Final[dict[str, int]] = dict(_sdk_fit.FIELD_TYPE_TO_BASE_TYPE)
NUMERIC_FIELD_TYPES: Final[frozenset[str]] = frozenset(_sdk_fit.NUMERIC_FIELD_TYPES)
MESG_NUM_DEVELOPER_DATA_ID: Final[int] = int(Profile["mesg_num"]["DEVELOPER_DATA_ID"])
MESG_NUM_FIELD_DESCRIPTION: Final[int] = int(Profile["mesg_num"]["FIELD_DESCRIPTION"])
MESG_NUM_HR: Final[int] = int(Profile["mesg_num"]["HR"])
MESG_NUM_RECORD: Final[int] = int(Profile["mesg_num"]["RECORD"])
FIELD_NUM_TIMESTAMP: Final[int] = 253


def message_profile(num: int) -> dict[str, Any] | None:
    """The SDK profile of global message ``num`` (``name``, ``fields``...), or None when unknown."""
    prof: dict[str, Any] | None = Profile["messages"].get(num)
    return prof


@cache
def type_values(type_name: str) -> dict[int, str] | None:
    """The value -> name table of a profile type (``sport``, ``event``...), or None."""
    table: dict[int, str] | None = Profile["types"].get(type_name)
    return table


def profile_version() -> str:
    """Version of the SDK profile in use."""
    return str(Profile["version"])
