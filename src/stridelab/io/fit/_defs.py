"""FIT message definitions (field layouts) and reading one message's raw field values.

The lowest layer of the fast engine (:func:`~stridelab.io.fit.read_fit`): a definition message
parsed into a :class:`Def` (numpy structured dtype and ``struct`` layout of its messages), and the
SDK's ``__read_message`` semantics for one message (:func:`read_raw_fields`), used by the scanner for
developer-data messages and by the message-at-a-time path.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from stridelab.io.fit._profile import (
    BASE_TYPES,
    MESG_NUM_DEVELOPER_DATA_ID,
    MESG_NUM_FIELD_DESCRIPTION,
    message_profile,
)

__all__ = [
    "FIT_EPOCH_S",
    "SPECIAL",
    "STRUCT_CODES",
    "Def",
    "DevFieldDef",
    "FieldDef",
    "convert_string",
    "read_raw_fields",
]

#: FIT timestamps count seconds from 1989-12-31T00:00:00Z; this is that instant in Unix seconds
FIT_EPOCH_S: Final[int] = 631065600
SPECIAL: Final[frozenset[int]] = frozenset({MESG_NUM_DEVELOPER_DATA_ID, MESG_NUM_FIELD_DESCRIPTION})


@dataclass(slots=True, eq=False)
class FieldDef:
    num: int
    size: int
    base: int  # effective base type id (uint8 when the size is not a multiple of the base size)
    n_el: int
    offset: int  # byte offset inside the message, after the record header


@dataclass(slots=True, eq=False)
class DevFieldDef:
    fdn: int
    size: int
    dev_index: int
    offset: int


@dataclass(slots=True, eq=False)
class Def:
    gnum: int
    little: bool
    fields: list[FieldDef]
    dev_fields: list[DevFieldDef]
    size: int  # bytes including the record header
    offset: int  # file offset of the definition message
    positions: list[int] = field(default_factory=list)
    app: Callable[[int], None] | None = None  # positions.append, None for special messages
    emu_plan: list[tuple[Any, ...]] | None = None
    has_unknown_fields: bool = True  # fields the profile does not know (set by the emulation plan)
    index: int = -1  # position in the scanner's list of definitions of this file
    _dtype: np.dtype | None = None
    _fmt: struct.Struct | None = None

    @property
    def special(self) -> bool:
        return self.gnum in SPECIAL

    def layout_key(self) -> tuple[Any, ...]:
        """What the dtype and struct layout depend on (equal for the same definition in any file)."""
        return (
            self.little,
            self.size,
            tuple((f.base, f.size, f.n_el, f.offset) for f in self.fields),
            tuple((dfd.size, dfd.offset) for dfd in self.dev_fields),
        )

    def dtype(self) -> np.dtype:
        """Structured dtype of a whole message (record header byte included, never read)."""
        if self._dtype is None:
            key = self.layout_key()
            cached = _DTYPES.get(key)
            if cached is None:
                cached = _DTYPES[key] = self._build_dtype()
                if len(_DTYPES) > _LAYOUT_CACHE_MAX:  # bounded (a hostile file may hold thousands)
                    _DTYPES.pop(next(iter(_DTYPES)))
            self._dtype = cached
        return self._dtype

    def _build_dtype(self) -> np.dtype:
        e = "<" if self.little else ">"
        names: list[str] = []
        formats: list[Any] = []
        offsets: list[int] = []
        for i, f in enumerate(self.fields):
            if f.size == 0:
                continue
            bt = BASE_TYPES[f.base]
            if bt.is_string:
                fmt: Any = f"S{f.size}"
            elif f.n_el > 1:
                fmt = (f"{e}{bt.np_code}", (f.n_el,))
            else:
                fmt = f"{e}{bt.np_code}"
            names.append(f"f{i}")
            formats.append(fmt)
            offsets.append(1 + f.offset)
        for j, dfd in enumerate(self.dev_fields):
            if dfd.size == 0:
                continue
            names.append(f"d{j}")
            formats.append(("u1", (dfd.size,)))
            offsets.append(1 + dfd.offset)
        return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": self.size})

    def fmt(self) -> struct.Struct:
        """struct layout of the regular fields (as the SDK builds it)."""
        if self._fmt is None:
            parts = ["<" if self.little else ">"]
            for f in self.fields:
                bt = BASE_TYPES[f.base]
                if f.size == 0:
                    continue
                if bt.is_string:
                    parts.append(f"{f.size}s")
                else:
                    parts.append(f"{f.n_el}{STRUCT_CODES[bt.np_code]}")
            text = "".join(parts)
            cached = _STRUCTS.get(text)
            if cached is None:
                cached = _STRUCTS[text] = struct.Struct(text)
                if len(_STRUCTS) > _LAYOUT_CACHE_MAX:
                    _STRUCTS.pop(next(iter(_STRUCTS)))
            self._fmt = cached
        return self._fmt


#: dtypes and struct layouts shared by the definitions of every file decoded in this process (the
#: same device writes the same definitions in every file); bounded, oldest dropped first
_LAYOUT_CACHE_MAX: Final[int] = 4096
_DTYPES: dict[tuple[Any, ...], np.dtype] = {}
_STRUCTS: dict[str, struct.Struct] = {}


STRUCT_CODES: Final[dict[str, str]] = {
    "u1": "B", "i1": "b", "i2": "h", "u2": "H", "i4": "i", "u4": "I", "f4": "f", "f8": "d",
    "i8": "q", "u8": "Q",
}  # fmt: skip


def convert_string(raw: bytes) -> str | list[str] | None:
    s = raw.decode("utf-8", errors="ignore").rstrip("\0")
    if not s:
        return None
    parts = s.split("\0")
    return parts[0] if len(parts) == 1 else parts


def _raw_values(data: bytes, pos: int, d: Def) -> list[tuple[FieldDef, Any]]:
    """(field, raw value) for the fields present (not invalid), as the SDK reads them."""
    vals = d.fmt().unpack_from(data, pos + 1)
    out: list[tuple[FieldDef, Any]] = []
    i = 0
    for f in d.fields:
        if f.size == 0:
            continue
        bt = BASE_TYPES[f.base]
        inv = bt.invalid
        if bt.is_string:
            v: Any = convert_string(vals[i])
            i += 1
        elif f.n_el > 1:
            arr = list(vals[i : i + f.n_el])
            i += f.n_el
            if bt.is_byte:
                v = arr if any(x != inv for x in arr) else None
            else:
                arr2 = [None if x == inv else x for x in arr]
                v = arr2 if any(x is not None for x in arr2) else None
        else:
            x = vals[i]
            i += 1
            v = None if x == inv else x
        if v is not None:
            out.append((f, v))
    return out


def read_raw_fields(data: bytes, pos: int, d: Def) -> dict[Any, Any]:
    """Raw field values of one message keyed by profile name (int field number when unknown)."""
    prof = message_profile(d.gnum)
    pf = prof["fields"] if prof else {}
    out: dict[Any, Any] = {}
    for f, v in _raw_values(data, pos, d):
        fp = pf.get(f.num)
        out[fp["name"] if fp else f.num] = v
    return out
