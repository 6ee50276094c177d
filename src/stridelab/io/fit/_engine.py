"""The fast FIT decoding engine: exact (same values as the official SDK), forgiving, numpy-vectorised.

How it works
------------
1. **Scan** (:class:`_Scanner`): one tight Python loop over record headers finds every message
   boundary. A data message costs one table look-up, one list append and one addition; a run of
   messages of one definition is found with a single strided bytes slice (``lstrip`` of the
   repeated header byte) and appended as a ``range``; definitions are parsed once and a definition
   sent again (some devices re-send one before every message) costs one dict look-up. Damage
   (truncation, undefined local message types, bad CRCs, oversize ``data_size``) becomes a
   :class:`FitProblem`; the scan then resynchronises on the next chained sequence when one exists.
   The CRCs are computed with numpy (:mod:`._crc`).
2. **Decode**: the data messages of one definition are gathered (a zero-copy view when they are
   contiguous, else one row gather) and read in one ``numpy`` call with a structured dtype.
3. **Profile**: per global message type, the rows of all its definitions are merged in file order
   and every field is transformed column-wise: scale/offset, enum names, UTC timestamps, invalid
   sentinels as missing, components expanded (bit fields; accumulation as a segmented cumsum).
   Message types whose profile features do not vectorise cleanly (sub-fields, fields expanded from
   several sources: ``event``, ``device_info``, ``lap``, ``hr``...) and types with few rows (where
   columns cost more than messages) go through :class:`_SdkEmulation`, a message-at-a-time port of
   the SDK's own logic, so they are exact by construction.
4. ``hr`` messages are merged into ``record.heart_rate`` exactly as the SDK's ``merge_heart_rates``.
5. ``FitFile.messages`` is a :class:`LazyFrames` mapping: all decoding is done eagerly; the pandas
   DataFrame of a message type is built when first accessed.

The cyclic garbage collector is paused while decoding (only acyclic objects are created, and its
passes over the many small lists/dicts would cost more than the decoding).

Column dtypes follow what pandas infers for the SDK's values (as the SDK adapter does): integers
without gaps ``int64``, numbers with gaps ``float64`` (NaN = missing), date_time fields
``datetime64[us, UTC]``, enums/strings/arrays ``object`` (arrays are lists, ``None`` for invalid
elements). Developer field values are kept as the SDK returns them (no invalid filtering).
"""

from __future__ import annotations

import gc
import io
import os
import struct
from bisect import bisect_right
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np
import pandas as pd

from stridelab.io.fit._crc import crc16
from stridelab.io.fit._profile import (
    BASE_TYPE_MASK,
    BASE_TYPES,
    BYTE,
    FIELD_NUM_TIMESTAMP,
    FIELD_TYPE_TO_BASE_TYPE,
    MESG_NUM_DEVELOPER_DATA_ID,
    MESG_NUM_FIELD_DESCRIPTION,
    MESG_NUM_HR,
    MESG_NUM_RECORD,
    NUMERIC_FIELD_TYPES,
    UINT8,
    BaseType,
    message_profile,
    type_values,
)
from stridelab.io.fit._sdk import describe_developer_fields
from stridelab.io.fit._types import DeveloperFieldInfo, FitDecodeError, FitFile, FitProblem

__all__ = ["LazyFrames", "decode_fit_bytes", "read_fit"]

FIT_EPOCH_S: Final[int] = 631065600
_UINT32: Final[int] = 6
#: text of the problem reported when the engine itself failed (never expected; the fuzz tests check)
INTERNAL_ERROR: Final[str] = "internal decoder error"
#: message types with at most this many rows are decoded message by message (cheaper than columns)
_SMALL: Final[int] = 16
_SPECIAL: Final[frozenset[int]] = frozenset({MESG_NUM_DEVELOPER_DATA_ID, MESG_NUM_FIELD_DESCRIPTION})
#: problem kinds that ``strict=True`` turns into a FitDecodeError (misaligned fields are a tolerated
#: quirk of real devices that the SDK decodes too, so they are only reported).
_STRICT_KINDS: Final[frozenset[str]] = frozenset(
    {"header_crc", "file_crc", "truncated", "undefined_local_message", "data_size", "bad_header", "other"}
)


# --------------------------------------------------------------------------------------------------
# definitions and scanning
# --------------------------------------------------------------------------------------------------
@dataclass(slots=True, eq=False)
class _FieldDef:
    num: int
    size: int
    base: int  # effective base type id (uint8 when the size is not a multiple of the base size)
    n_el: int
    offset: int  # byte offset inside the message, after the record header


@dataclass(slots=True, eq=False)
class _DevFieldDef:
    fdn: int
    size: int
    dev_index: int
    offset: int


@dataclass(slots=True, eq=False)
class _Def:
    gnum: int
    little: bool
    fields: list[_FieldDef]
    dev_fields: list[_DevFieldDef]
    size: int  # bytes including the record header
    offset: int  # file offset of the definition message
    positions: list[int] = field(default_factory=list)
    app: Callable[[int], None] | None = None  # positions.append, None for special messages
    emu_plan: list[tuple[Any, ...]] | None = None
    has_unknown_fields: bool = True  # fields the profile does not know (set by the emulation plan)
    _dtype: np.dtype | None = None
    _fmt: struct.Struct | None = None

    @property
    def special(self) -> bool:
        return self.gnum in _SPECIAL

    def dtype(self) -> np.dtype:
        """Structured dtype of a whole message (record header byte included, never read)."""
        if self._dtype is None:
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
            self._dtype = np.dtype(
                {"names": names, "formats": formats, "offsets": offsets, "itemsize": self.size}
            )
        return self._dtype

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
                    parts.append(f"{f.n_el}{_STRUCT_CODES[bt.np_code]}")
            self._fmt = struct.Struct("".join(parts))
        return self._fmt


_STRUCT_CODES: Final[dict[str, str]] = {
    "u1": "B", "i1": "b", "i2": "h", "u2": "H", "i4": "i", "u4": "I", "f4": "f", "f8": "d",
    "i8": "q", "u8": "Q",
}  # fmt: skip


class _Registry:
    """Developer data ids and field descriptions, as the SDK tracks them while decoding."""

    def __init__(self) -> None:
        self.apps: dict[int, list[dict[str, Any]]] = {}
        self.developer_data_ids: list[dict[str, Any]] = []
        self.field_descriptions: list[dict[str, Any]] = []
        self.epoch_offsets: list[int] = []  # file offsets where the lookup table changed
        self.snapshots: list[dict[tuple[int, int], dict[str, Any]]] = [{}]

    def _bump(self, pos: int) -> None:
        table: dict[tuple[int, int], dict[str, Any]] = {}
        for idx, fields in self.apps.items():
            for fd in fields:
                table.setdefault((idx, fd["field_definition_number"]), fd)
        self.epoch_offsets.append(pos)
        self.snapshots.append(table)

    def lookup_at(self, pos: int) -> dict[tuple[int, int], dict[str, Any]]:
        return self.snapshots[bisect_right(self.epoch_offsets, pos)]

    def add_developer_data_id(self, pos: int, raw: dict[Any, Any]) -> None:
        idx = raw.get("developer_data_index")
        if not isinstance(idx, int) or idx == 0xFF:
            return
        self.apps[idx] = []
        self._bump(pos)

    def add_field_description(self, pos: int, raw: dict[Any, Any]) -> None:
        idx = raw.get("developer_data_index")
        if not isinstance(idx, int) or idx == 0xFF or idx not in self.apps:
            return
        bt = raw.get("fit_base_type_id")
        fdn = raw.get("field_definition_number")
        if not isinstance(bt, int) or not isinstance(fdn, int):
            return
        masked = bt & BASE_TYPE_MASK
        if masked not in BASE_TYPES:
            return
        name = raw.get("field_name")
        self.apps[idx].append(
            {"field_definition_number": fdn, "base": masked, "key": raw["key"], "name": name}
        )
        self._bump(pos)


class _Scanner:
    """Finds message boundaries and parses definitions; collects problems."""

    def __init__(self, data: bytes, strict: bool, source: str | None) -> None:
        self.data = data
        self.n = len(data)
        self.strict = strict
        self.source = source
        self.problems: list[FitProblem] = []
        self.defs: list[_Def] = []
        self.local: list[_Def | None] = [None] * 16
        self.app_tab: list[Callable[[int], None] | None] = [None] * 256
        self.size_tab: list[int] = [0] * 256
        self.compressed: list[tuple[int, int]] = []  # (offset, time offset) of compressed headers
        self.seq_starts: list[int] = []
        self.registry = _Registry()
        self.special_raw: dict[int, dict[Any, Any]] = {}  # offset -> raw message (206/207)
        self._misaligned_seen: set[tuple[int, int]] = set()
        self._def_cache: dict[bytes, _Def] = {}
        self._local_keys: list[bytes] = [b""] * 16

    # -- problems ---------------------------------------------------------------------------------
    def problem(self, kind: str, offset: int, message: str) -> None:
        self.problems.append(FitProblem(kind, offset, message))
        if self.strict and kind in _STRICT_KINDS:
            raise FitDecodeError(f"{kind}: {message}", offset=offset, source=self.source)

    # -- file level -------------------------------------------------------------------------------
    def run(self) -> None:
        data, n = self.data, self.n
        pos = 0
        if n == 0:
            self.problem("bad_header", 0, "empty file")
            return
        while pos < n:
            if n - pos < 12:
                if pos == 0:
                    self.problem("bad_header", 0, f"not a FIT file: {n} bytes, too short for a FIT header")
                else:
                    self.problem("bad_header", pos, f"{n - pos} trailing bytes after the last FIT sequence")
                return
            hs = data[pos]
            if hs < 12 or data[pos + 8 : pos + 12] != b".FIT" or pos + hs > n:
                self.problem("bad_header", pos, "not a FIT file (no valid FIT file header here)")
                nxt = self._find_header(pos + 1)
                if nxt is None:
                    return
                pos = nxt
                continue
            data_size = int.from_bytes(data[pos + 4 : pos + 8], "little")
            if hs >= 14:
                hcrc = int.from_bytes(data[pos + 12 : pos + 14], "little")
                if hcrc != 0 and hcrc != crc16(data[pos : pos + 12]):
                    self.problem("header_crc", pos, f"header CRC 0x{hcrc:04x} does not match its bytes")
            self.seq_starts.append(pos)
            start = pos + hs
            declared_end = start + data_size
            if declared_end > n:
                self.problem(
                    "data_size",
                    pos,
                    f"header data_size {data_size} exceeds the file ({n - start} bytes left)",
                )
            elif declared_end + 2 > n:
                self.problem("truncated", declared_end, "file CRC missing")
            end = min(declared_end, n)
            fault = self._scan_messages(start, end)
            if fault is not None:
                nxt = self._find_header(fault + 1)
                if nxt is None:
                    return
                pos = nxt
                continue
            if declared_end + 2 > n:
                return
            crc = int.from_bytes(data[declared_end : declared_end + 2], "little")
            calc = crc16(memoryview(data)[pos:declared_end])
            if crc != calc:
                self.problem("file_crc", declared_end, f"file CRC 0x{crc:04x} != computed 0x{calc:04x}")
            pos = declared_end + 2

    def _find_header(self, start: int) -> int | None:
        data = self.data
        i = data.find(b".FIT", start + 8)
        while i >= 0:
            cand = i - 8
            if cand >= start and data[cand] >= 12 and cand + data[cand] <= self.n:
                return cand
            i = data.find(b".FIT", i + 1)
        return None

    # -- message level ----------------------------------------------------------------------------
    def _scan_messages(self, pos: int, end: int) -> int | None:
        """Scan [pos, end). Returns the offset of a fault that stops the sequence, else None."""
        data = self.data
        app_tab = self.app_tab
        size_tab = self.size_tab
        cache = self._def_cache
        local_defs = self.local
        local_keys = self._local_keys
        h = 0
        last_h = -1
        app: Callable[[int], None] | None = None
        while True:
            while pos < end:
                h = data[pos]
                app = app_tab[h]
                if app is None:
                    break
                if h == last_h:
                    # a run of messages of one definition: their header bytes repeat every `size`
                    # bytes; find the run's length with one strided slice (exact by induction)
                    size = size_tab[h]
                    seg = data[pos : min(end, pos + size * 512) : size]
                    k = len(seg) - len(seg.lstrip(seg[:1]))
                    app.__self__.extend(range(pos, pos + k * size, size))  # type: ignore[attr-defined]
                    pos += k * size
                    last_h = -1
                    continue
                last_h = h
                app(pos)
                pos += size_tab[h]
            else:
                if pos > end and app is not None:  # the last message runs past the data
                    start = pos - size_tab[h]
                    app.__self__.pop()  # type: ignore[attr-defined]
                    self._overrun(start, end)
                return None
            # slow path: definitions, compressed timestamps, special messages, undefined locals
            last_h = -1
            if h & 0x80:
                d = self.local[(h >> 5) & 0x03]
                if d is None:
                    self.problem("undefined_local_message", pos, f"local message {(h >> 5) & 3} not defined")
                    return pos
                if pos + d.size > end:
                    self._overrun(pos, end)
                    return None
                d.positions.append(pos)
                self.compressed.append((pos, h & 0x1F))
                if d.special:
                    self._special(d, pos)
                pos += d.size
            elif h & 0x40:
                # fast path: a definition seen before (some devices re-send one before every message)
                q = pos + 6 + 3 * data[pos + 5] if pos + 6 <= end else end + 1
                if not h & 0x20 and q <= end:
                    d = cache.get(data[pos + 1 : q])
                    if d is not None:
                        local = h & 0x0F
                        if local_defs[local] is not d:
                            local_defs[local] = d
                            local_keys[local] = b""
                            app_tab[local] = d.app
                            size_tab[local] = d.size
                        pos = q
                        continue
                nxt = self._parse_definition(pos, end)
                if nxt < 0:
                    return None
                pos = nxt
            else:
                d = self.local[h & 0x0F]
                if d is None:
                    self.problem("undefined_local_message", pos, f"local message {h & 0x0F} not defined")
                    return pos
                if pos + d.size > end:
                    self._overrun(pos, end)
                    return None
                d.positions.append(pos)
                self._special(d, pos)
                pos += d.size

    def _overrun(self, start: int, end: int) -> None:
        if end >= self.n:
            self.problem("truncated", start, "file ends inside a message")
        else:
            self.problem("truncated", start, "message runs past the end of the data section")

    def _parse_definition(self, pos: int, end: int) -> int:
        data = self.data
        if pos + 6 > end:
            self._overrun(pos, end)
            return -1
        h = data[pos]
        nf = data[pos + 5]
        q = pos + 6 + 3 * nf
        if q > end:
            self._overrun(pos, end)
            return -1
        if h & 0x20:
            if q + 1 > end or q + 1 + 3 * data[q] > end:
                self._overrun(pos, end)
                return -1
            q += 1 + 3 * data[q]
        key = data[pos + 1 : q] + (b"D" if h & 0x20 else b"")
        local = h & 0x0F
        if self._local_keys[local] == key:  # the same definition sent again (some devices do so)
            return q
        d = self._def_cache.get(key)
        if d is None:
            d = self._new_definition(pos, end)
            self._def_cache[key] = d
        self._local_keys[local] = key
        self.local[local] = d
        # only the plain header byte (reserved bits 4-5 clear) takes the fast path; headers with
        # reserved bits set are rare and handled by the slow path (which ignores those bits)
        self.app_tab[local] = d.app
        self.size_tab[local] = d.size
        return q

    def _new_definition(self, pos: int, end: int) -> _Def:
        data = self.data
        h = data[pos]
        little = data[pos + 2] == 0
        gnum = data[pos + 3] | (data[pos + 4] << 8) if little else (data[pos + 3] << 8) | data[pos + 4]
        nf = data[pos + 5]
        q = pos + 6
        fields: list[_FieldDef] = []
        off = 0
        for _ in range(nf):
            num, size, bt = data[q], data[q + 1], data[q + 2] & BASE_TYPE_MASK
            q += 3
            if bt not in BASE_TYPES:
                self.problem("other", q - 1, f"invalid base type {bt} (read as bytes)")
                bt = BYTE
            if size % BASE_TYPES[bt].size:
                if (gnum, num) not in self._misaligned_seen:
                    self._misaligned_seen.add((gnum, num))
                    self.problem(
                        "misaligned_field",
                        q - 3,
                        f"message {gnum} field {num}: size {size} is not a multiple of "
                        f"{BASE_TYPES[bt].name} (read as uint8)",
                    )
                bt = UINT8
            fields.append(_FieldDef(num, size, bt, size // BASE_TYPES[bt].size, off))
            off += size
        devs: list[_DevFieldDef] = []
        if h & 0x20:
            nd = data[q]
            q += 1
            for _ in range(nd):
                devs.append(_DevFieldDef(data[q], data[q + 1], data[q + 2], off))
                off += data[q + 1]
                q += 3
        d = _Def(gnum, little, fields, devs, 1 + off, pos)
        if not d.special:
            d.app = d.positions.append
        self.defs.append(d)
        return d

    def _special(self, d: _Def, pos: int) -> None:
        if not d.special:
            return
        raw = read_raw_fields(self.data, pos, d)
        if d.gnum == MESG_NUM_DEVELOPER_DATA_ID:
            self.registry.developer_data_ids.append(raw)
            self.registry.add_developer_data_id(pos, raw)
        else:
            raw["key"] = len(self.registry.field_descriptions)
            self.registry.field_descriptions.append(raw)
            self.registry.add_field_description(pos, raw)
        self.special_raw[pos] = raw


# --------------------------------------------------------------------------------------------------
# raw reading of one message (SDK __read_message semantics), used by the emulation path
# --------------------------------------------------------------------------------------------------
def _convert_string(raw: bytes) -> str | list[str] | None:
    s = raw.decode("utf-8", errors="ignore").rstrip("\0")
    if not s:
        return None
    parts = s.split("\0")
    return parts[0] if len(parts) == 1 else parts


def _raw_values(data: bytes, pos: int, d: _Def) -> list[tuple[_FieldDef, Any]]:
    """(field, raw value) for the fields present (not invalid), as the SDK reads them."""
    vals = d.fmt().unpack_from(data, pos + 1)
    out: list[tuple[_FieldDef, Any]] = []
    i = 0
    for f in d.fields:
        if f.size == 0:
            continue
        bt = BASE_TYPES[f.base]
        inv = bt.invalid
        if bt.is_string:
            v: Any = _convert_string(vals[i])
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


def read_raw_fields(data: bytes, pos: int, d: _Def) -> dict[Any, Any]:
    """Raw field values of one message keyed by profile name (int field number when unknown)."""
    prof = message_profile(d.gnum)
    pf = prof["fields"] if prof else {}
    out: dict[Any, Any] = {}
    for f, v in _raw_values(data, pos, d):
        fp = pf.get(f.num)
        out[fp["name"] if fp else f.num] = v
    return out


# --------------------------------------------------------------------------------------------------
# message-at-a-time emulation of the SDK (for the rare message types that do not vectorise)
# --------------------------------------------------------------------------------------------------
class _Accumulator:
    def __init__(self) -> None:
        self.state: dict[tuple[int, int], list[int]] = {}

    def reset(self, mesg: int, fnum: int, value: int) -> None:
        self.state[(mesg, fnum)] = [value, value]

    def accumulate(self, mesg: int, fnum: int, value: int, bits: int) -> int:
        st = self.state.get((mesg, fnum))
        if st is None:
            st = self.state[(mesg, fnum)] = [value, value]
        st[0] += (value - st[1]) & ((1 << bits) - 1)
        st[1] = value
        return st[0]


def _convert_type_to_string(field_type: Any, value: Any) -> Any:
    types = type_values(field_type) if isinstance(field_type, str) else None
    if types is None:
        return value
    try:
        if isinstance(value, list):
            return [types.get(v, v) for v in value]
        return types.get(value, value)
    except TypeError:
        return value


def _apply_scale_offset(fp: dict[str, Any], raw: Any) -> Any:
    if raw is None:
        return raw
    if len(fp["scale"]) > 1:
        return raw
    scale = fp["scale"][0] if fp["scale"] else 1
    offset = fp["offset"][0] if fp["offset"] else 0
    try:
        if isinstance(raw, list):
            return [None if v is None else ((v / scale if scale != 1 else v) - offset) for v in raw]
        return (raw / scale if scale != 1 else raw) - offset
    except TypeError:
        return raw


def _to_datetime(raw: Any) -> Any:
    return datetime.fromtimestamp((raw if raw else 0) + FIT_EPOCH_S, UTC)


def _sanitize(v: Any) -> Any:
    return v[0] if isinstance(v, list) and len(v) == 1 else v


_Plan = tuple[dict[int, dict[str, Any]], dict[int, tuple[Any, Any, int, Callable[[Any], Any]]]]
_TRANSFORMERS: dict[tuple[int, Any], Callable[[Any], Any]] = {}
_PLANS: dict[int, _Plan] = {}
_TF_BY_NAME: dict[int, dict[Any, Callable[[Any], Any]]] = {}


def _def_plan(d: _Def, plan: dict[int, tuple[Any, Any, int, Callable[[Any], Any]]]) -> list[tuple[Any, ...]]:
    """Per definition: how to read each field from the struct-unpacked values."""
    out: list[tuple[Any, ...]] = []
    i = 0
    for f in d.fields:
        if f.size == 0:
            continue
        bt = BASE_TYPES[f.base]
        kind = 1 if bt.is_string else (2 if f.n_el > 1 else 0)
        entry = plan.get(f.num)
        name, flags = (f.num, 0) if entry is None else (entry[0], entry[2])
        out.append((i, kind, f.n_el, bt.invalid, bt.is_byte, name, f.num, flags))
        i += 1 if kind == 1 else f.n_el
    d.has_unknown_fields = any(isinstance(t[5], int) for t in out)
    return out


class _SdkEmulation:
    """Port of ``garmin_fit_sdk.Decoder`` message processing (default options), one message at a time."""

    def __init__(self, accumulator: _Accumulator) -> None:
        self.acc = accumulator
        # both depend only on the (static) profile: shared by all decoders
        self._transformers = _TRANSFORMERS
        self._plans = _PLANS

    def _plan(self, gnum: int) -> _Plan:
        """Per message type: profile fields and, per field number, (name, profile, flags, transform)."""
        cached = self._plans.get(gnum)
        if cached is None:
            prof = message_profile(gnum)
            pfields: dict[int, dict[str, Any]] = prof["fields"] if prof else {}
            plan: dict[int, tuple[Any, Any, int, Callable[[Any], Any]]] = {}
            for num, fp in pfields.items():
                flags = (1 if fp["sub_fields"] else 0) | (2 if fp["has_components"] else 0)
                flags |= 4 if fp["is_accumulated"] else 0
                plan[num] = (fp["name"], fp, flags, _transformer(fp, fp["type"]))
            cached = self._plans[gnum] = (pfields, plan)
        return cached

    def message_at(self, d: _Def, data: bytes, pos: int, ts: int | None) -> dict[Any, Any]:
        """The message at ``pos`` (definition ``d``) as the SDK returns it: {name (int when the
        profile does not know the field): value}. ``ts``: a timestamp from a compressed header,
        replacing the message's own."""
        gnum = d.gnum
        pfields, plan = self._plan(gnum)
        dplan = d.emu_plan
        if dplan is None:
            dplan = d.emu_plan = _def_plan(d, plan)
        vals = d.fmt().unpack_from(data, pos + 1)
        message: dict[Any, Any] = {}
        fdn: dict[Any, int] = {}
        with_sub: list[Any] = []
        to_expand: list[Any] = []
        for i, kind, n, inv, is_byte, name, fnum, flags in dplan:
            if kind == 0:
                v = vals[i]
                if v == inv:
                    continue
            elif kind == 1:
                v = _convert_string(vals[i])
                if v is None:
                    continue
            else:
                arr = list(vals[i : i + n])
                if is_byte:
                    if all(x == inv for x in arr):
                        continue
                    v = arr
                else:
                    v = [None if x == inv else x for x in arr]
                    if all(x is None for x in v):
                        continue
            message[name] = v
            fdn[name] = fnum
            if flags:
                if flags & 1:
                    with_sub.append(name)
                if flags & 2:
                    to_expand.append(name)
                if flags & 4:
                    for value in v if isinstance(v, list) else [v]:
                        if isinstance(value, int | float):
                            self.acc.reset(gnum, fnum, int(value))
        if ts is not None:
            entry = plan.get(FIELD_NUM_TIMESTAMP)
            tname = entry[0] if entry is not None else FIELD_NUM_TIMESTAMP
            message.pop(tname, None)
            message[tname] = ts
            fdn[tname] = FIELD_NUM_TIMESTAMP
        return self._finish(gnum, pfields, plan, message, fdn, with_sub, to_expand)

    def _finish(
        self,
        gnum: int,
        pfields: dict[int, dict[str, Any]],
        plan: dict[int, tuple[Any, Any, int, Callable[[Any], Any]]],
        message: dict[Any, Any],
        fdn: dict[Any, int],
        with_sub: list[Any],
        to_expand: list[Any],
    ) -> dict[Any, Any]:
        if gnum in _SPECIAL:
            return {k: _sanitize(v) for k, v in message.items()}
        subs: dict[Any, dict[str, Any]] = {}  # sub-field name -> its profile
        if with_sub:
            self._expand_sub_fields(pfields, message, fdn, subs, with_sub, to_expand)
        expanded: dict[Any, Any] = {}
        if to_expand:
            self._expand_components(gnum, pfields, message, fdn, subs, to_expand, expanded)
        if not subs and not expanded:  # the common case: every value through its field's transform
            tfn = _TF_BY_NAME.get(gnum)
            if tfn is None:
                tfn = _TF_BY_NAME[gnum] = {entry[0]: entry[3] for entry in plan.values()}
            return {k: tfn.get(k, _identity)(v) for k, v in message.items()}
        out: dict[Any, Any] = {}
        tcache = self._transformers
        for name, raw in message.items():
            if name in expanded:
                out[name] = expanded[name]
                continue
            sp = subs.get(name)
            if sp is not None:
                key = (gnum, name)
                tf = tcache.get(key)
                if tf is None:
                    tf = tcache[key] = _transformer(sp, sp["type"])
            else:
                entry = plan.get(fdn[name])
                tf = entry[3] if entry is not None else _identity
            out[name] = tf(raw)  # native values are scalars or lists of >= 2: nothing to sanitize
        for name, value in expanded.items():
            if name not in out:
                out[name] = value
        return out

    @staticmethod
    def _expand_sub_fields(
        pfields: dict[int, dict[str, Any]],
        message: dict[Any, Any],
        fdn: dict[Any, int],
        subs: dict[Any, dict[str, Any]],
        with_sub: list[Any],
        to_expand: list[Any],
    ) -> None:
        for name in with_sub:
            fp = pfields.get(fdn[name])
            if fp is None or not fp["sub_fields"]:
                continue
            for sub in fp["sub_fields"]:
                for item in sub["map"]:
                    ref_name = item["name"]
                    if ref_name not in message:
                        continue
                    if message[ref_name] == item["raw_value"]:
                        raw = message[fp["name"]]
                        message[sub["name"]] = raw.copy() if isinstance(raw, list) else raw
                        fdn[sub["name"]] = fdn[fp["name"]]
                        subs[sub["name"]] = sub
                        if sub["has_components"]:
                            to_expand.append(sub["name"])
                        break

    def _expand_components(
        self,
        gnum: int,
        pfields: dict[int, dict[str, Any]],
        message: dict[Any, Any],
        fdn: dict[Any, int],
        subs: dict[Any, dict[str, Any]],
        to_expand: list[Any],
        expanded: dict[Any, Any],
    ) -> None:
        # expanded targets: name -> [raw values], [values], field number, invalid
        mesg: dict[Any, tuple[list[int], list[Any], int, int]] = {}
        while to_expand:
            name = to_expand.pop()
            if name in message:
                raw = message[name]
                fp = pfields.get(fdn[name])
                if fp is None:
                    continue
                if name in subs:
                    fp = subs[name]
            elif name in mesg:
                rv_list = mesg[name][0]
                raw = rv_list[0] if len(rv_list) == 1 else rv_list
                fp = pfields.get(mesg[name][2])
                if fp is None:
                    continue
            else:
                continue
            base = FIELD_TYPE_TO_BASE_TYPE.get(fp["type"])
            if not fp["has_components"] or base is None:
                continue
            inv = BASE_TYPES[base].invalid
            vals = raw if isinstance(raw, list) else [raw]
            if all(v == inv for v in vals):
                continue
            if any(not isinstance(v, int) for v in vals):
                continue  # the SDK's bit stream cannot read these (it would fail); skip
            width = BASE_TYPES[base].size * 8
            big = 0
            for j, v in enumerate(vals):
                big |= (v & ((1 << width) - 1)) << (j * width)
            avail = width * len(vals)
            bitpos = 0
            for i, target_num in enumerate(fp["components"]):
                nbits = fp["bits"][i]
                if avail - bitpos < nbits:
                    break
                target = pfields[target_num]
                tname = target["name"]
                if tname not in mesg:
                    tb = FIELD_TYPE_TO_BASE_TYPE.get(target["type"])
                    tinv = BASE_TYPES[tb].invalid if tb is not None else 0xFF
                    mesg[tname] = ([], [], target["num"], 0xFF if tinv is None else tinv)
                value: Any = (big >> bitpos) & ((1 << nbits) - 1)
                bitpos += nbits
                if target["is_accumulated"]:
                    value = self.acc.accumulate(gnum, target["num"], value, nbits)
                value = (value / fp["scale"][i]) - fp["offset"][i]
                value = int(value) if float(value).is_integer() else value
                raw_value = (value + target["offset"][0]) * target["scale"][0]
                raws, values, _num, tinv2 = mesg[tname]
                raws.append(int(raw_value))
                values.append(None if raw_value == tinv2 else _convert_type_to_string(target["type"], value))
                if target["has_components"]:
                    to_expand.append(tname)
                if avail - bitpos <= 0:
                    break
        for tname, (_raws, values, _num, _inv) in mesg.items():
            expanded[tname] = _sanitize(values)
            if tname not in message:
                message[tname] = None  # keeps the SDK's key order; the value comes from ``expanded``
                fdn[tname] = _num


def _identity(raw: Any) -> Any:
    return raw


def _transformer(fp: dict[str, Any] | None, ftype: Any) -> Callable[[Any], Any]:
    """The SDK's value transform of one field (types to strings, scale/offset, date_time), specialised."""
    table = type_values(ftype) if isinstance(ftype, str) else None
    numeric = fp is not None and ftype in NUMERIC_FIELD_TYPES
    if ftype == "date_time":

        def to_dt(raw: Any) -> Any:
            try:
                return _to_datetime(raw)
            except (TypeError, ValueError, OverflowError, OSError):
                return raw

        return to_dt
    if numeric:
        assert fp is not None
        if len(fp["scale"]) > 1:
            return _identity
        scale = fp["scale"][0] if fp["scale"] else 1
        offset = fp["offset"][0] if fp["offset"] else 0
        if scale == 1 and offset == 0:
            return _identity
        return lambda raw: _apply_scale_offset(fp, raw)
    if table is not None:
        return lambda raw: _convert_type_to_string(ftype, raw)
    return _identity


def _merge_heart_rates(hr_mesgs: list[dict[Any, Any]], record_ts: list[float]) -> dict[int, int]:
    """Port of ``garmin_fit_sdk.hr_mesg_utils.merge_heart_rates``: record index -> new heart_rate."""
    heartrates = _expand_heart_rates(hr_mesgs)
    out: dict[int, int] = {}
    hr_index = 0
    start: float | None = None
    for i, end_t in enumerate(record_ts):
        hr_sum = 0.0
        hr_count = 0
        if start is None:
            start = end_t
        if start == end_t:
            start -= 1
            hr_index = hr_index - 1 if hr_index >= 1 else 0
        while hr_index < len(heartrates):
            ts, bpm = heartrates[hr_index]
            if start < ts <= end_t:
                hr_sum += bpm
                hr_count += 1
            elif ts > end_t:
                if hr_count > 0:
                    out[i] = int((hr_sum / hr_count) + 0.5)
                start = end_t
                break
            hr_index += 1
    return out


def _expand_heart_rates(hr_mesgs: list[dict[Any, Any]]) -> list[tuple[float, Any]]:
    gap_ms, gap_s, max_steps = 250, 0.25, 5000 / 250
    anchor_event: float | None = 0.0
    anchor_ts: float | None = None
    rates: list[tuple[float, Any]] = []
    for m in hr_mesgs:
        ev = m["event_timestamp"]
        evs = ev if isinstance(ev, list) else [ev]
        bpm = m["filtered_bpm"]
        bpms = bpm if isinstance(bpm, list) else [bpm]
        if m.get("timestamp") is not None:
            t = m["timestamp"]
            anchor_ts = t.timestamp() - FIT_EPOCH_S if isinstance(t, datetime) else t
            if m["fractional_timestamp"] is not None:
                anchor_ts += m["fractional_timestamp"]
            if len(evs) == 1:
                anchor_event = evs[0]
            else:
                raise ValueError("anchor HR message must have exactly one event_timestamp")
        if anchor_ts is None or anchor_event is None:
            raise ValueError("no anchor timestamp before delta HR messages")
        if len(evs) != len(bpms):
            raise ValueError("HR message with mismatching event_timestamp and filtered_bpm")
        for e, b in zip(evs, bpms, strict=True):
            if e < anchor_event:
                if anchor_event - e > 0x400000:
                    e += 0x400000
                else:
                    raise ValueError("anchor event_timestamp greater than a later event_timestamp")
            cur = anchor_ts + (e - anchor_event)
            if rates:
                prev_t, prev_b = rates[-1]
                gap = abs(cur - prev_t) * 1000
                step = 1
                while gap > gap_ms and step <= max_steps:
                    rates.append((prev_t + gap_s * step, prev_b))
                    gap -= gap_ms
                    step += 1
            rates.append((cur, b))
    return rates


# --------------------------------------------------------------------------------------------------
# vectorised decoding
# --------------------------------------------------------------------------------------------------
@dataclass(slots=True, eq=False)
class _Piece:
    """The messages of one definition (and one developer-registry epoch), decoded as arrays."""

    d: _Def
    positions: np.ndarray  # int64 file offsets
    rec: np.ndarray  # structured (n,)
    dev_table: dict[tuple[int, int], dict[str, Any]]
    extra_ts: np.ndarray | None = None  # timestamps from compressed headers (uint32, invalid elsewhere)


def _gather(data: bytes, d: _Def, pos: np.ndarray) -> np.ndarray:
    """The messages of definition ``d`` at file offsets ``pos`` as one structured array."""
    dt = d.dtype()
    n = len(pos)
    p0 = int(pos[0])
    if n == 1 or int(pos[-1]) - p0 == (n - 1) * d.size:
        return np.frombuffer(data, dtype=dt, count=n, offset=p0)
    # one opaque (void) message starting at every byte, gathered by row, then given its fields
    opaque = np.dtype((np.void, d.size))
    every_byte = np.ndarray(shape=(len(data) - d.size + 1,), dtype=opaque, buffer=data, strides=(1,))
    return every_byte[pos].view(dt)


def _native(a: np.ndarray) -> np.ndarray:
    if a.dtype.byteorder == ">":
        return a.astype(a.dtype.newbyteorder("="))
    return a


def _int_column(values: np.ndarray, invalid: np.ndarray | None) -> np.ndarray:
    """Integers as pandas infers them from Python ints: int64 when complete, float64 with NaN else.

    ``invalid`` marks the missing rows (None: none is)."""
    if invalid is None:
        if values.dtype == np.uint64 and len(values) and int(values.max()) > np.iinfo(np.int64).max:
            return values.astype(object)
        return values.astype(np.int64, copy=False)
    out = values.astype(np.float64)
    out[invalid] = np.nan
    return out


def _float_column(values: np.ndarray, invalid: np.ndarray | None) -> np.ndarray:
    out = values.astype(np.float64)
    if invalid is not None:
        out[invalid] = np.nan
    return out


def _invalid_mask(raw: np.ndarray, inv: int | None) -> np.ndarray | None:
    """Rows holding the invalid sentinel, or None when there are none."""
    if inv is None:
        return None
    bad = raw == inv
    return bad if bad.any() else None


def _datetime_column(raw: np.ndarray, invalid: np.ndarray | None) -> Any:
    secs = raw.astype(np.int64)
    secs += FIT_EPOCH_S
    secs *= 1_000_000
    arr = secs.view("datetime64[us]")
    if invalid is not None:
        arr[invalid] = np.datetime64("NaT")
    return pd.DatetimeIndex(arr, copy=False).tz_localize("UTC").array


def _object_from(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _map_enum(raw: np.ndarray, invalid: np.ndarray | None, table: dict[int, str]) -> np.ndarray | None:
    """Object array of names (raw ints where the table has no entry), or None when nothing maps."""
    if raw.dtype.itemsize == 1 and raw.dtype.kind == "u":
        used = np.flatnonzero(np.bincount(raw, minlength=256)).tolist()
        if not any(u in table for u in used):
            return None
        look = _object_from([table.get(u, u) for u in range(256)])
        out = look[raw]
    else:
        uniq, inv = np.unique(raw, return_inverse=True)
        ulist = uniq.tolist()
        if not any(u in table for u in ulist):
            return None
        look = _object_from([table.get(u, u) for u in ulist])
        out = look[inv.reshape(-1)]
    if invalid is not None:
        out[invalid] = None
    return out


class _MessageBuilder:
    """Builds the DataFrame of one global message type from its pieces."""

    def __init__(self, decoder: _Decoder, gnum: int, pieces: list[_Piece]) -> None:
        self.dec = decoder
        self.gnum = gnum
        self.pieces = pieces
        self.prof = message_profile(gnum)
        positions = np.concatenate([p.positions for p in pieces]) if len(pieces) > 1 else pieces[0].positions
        self.n = len(positions)
        if len(pieces) > 1:
            order = np.argsort(positions, kind="stable")
            rank = np.empty(self.n, dtype=np.int64)
            rank[order] = np.arange(self.n)
            self.positions = positions[order]
        else:
            rank = None
            self.positions = positions
        self.rows: list[np.ndarray | None] = []
        start = 0
        for p in pieces:
            k = len(p.positions)
            self.rows.append(None if rank is None else rank[start : start + k])
            start += k

    # -- field inventory -------------------------------------------------------------------------
    def _field_layouts(self) -> dict[int, set[tuple[int, int]]]:
        lay: dict[int, set[tuple[int, int]]] = {}
        for p in self.pieces:
            for f in p.d.fields:
                if f.size:
                    lay.setdefault(f.num, set()).add((f.base, f.n_el))
            if p.extra_ts is not None and not any(f.num == FIELD_NUM_TIMESTAMP for f in p.d.fields):
                lay.setdefault(FIELD_NUM_TIMESTAMP, set()).add((_UINT32, 1))
        return lay

    def _vectorisable(self, lay: dict[int, set[tuple[int, int]]]) -> bool:
        if self.gnum in _SPECIAL or self.gnum == MESG_NUM_HR:  # merge_heart_rates needs hr as dicts
            return False
        if self.prof is None:
            return True
        pf = self.prof["fields"]
        for num in lay:
            fp = pf.get(num)
            if fp is not None and fp["sub_fields"]:
                return False
        plan = self._component_plan(lay)
        if plan is None:
            return False
        involved: set[int] = set()
        for num, _native, _n, _w in plan:
            involved.add(num)
            involved.update(pf[num]["components"])
        return not any(len(lay.get(num, ())) > 1 for num in involved)

    def _component_plan(
        self, lay: dict[int, set[tuple[int, int]]]
    ) -> list[tuple[int, bool, int, int]] | None:
        """Expansion sources as (field num, is_native, n_el, elem bits), or None if not vectorisable."""
        assert self.prof is not None
        pf = self.prof["fields"]
        sources: list[tuple[int, bool, int, int]] = []
        targets: dict[int, int] = {}
        queue: list[tuple[int, bool, int]] = []
        for num, layouts in lay.items():
            fp = pf.get(num)
            if fp is None or not fp["has_components"]:
                continue
            base = FIELD_TYPE_TO_BASE_TYPE.get(fp["type"])
            if base is None:
                continue
            (bt, n_el) = next(iter(layouts))
            if BASE_TYPES[bt].size != BASE_TYPES[base].size or BASE_TYPES[bt].is_string:
                return None
            queue.append((num, True, n_el))
        while queue:
            num, native, n_el = queue.pop(0)
            fp = pf[num]
            base = FIELD_TYPE_TO_BASE_TYPE.get(fp["type"])
            if base is None:
                continue
            width = BASE_TYPES[base].size * 8
            if width * n_el > 64:
                return None
            sources.append((num, native, n_el, width))
            avail = width * n_el
            used = 0
            for i, t in enumerate(fp["components"]):
                nb = fp["bits"][i]
                if avail - used < nb:
                    break
                used += nb
                targets[t] = targets.get(t, 0) + 1
                if targets[t] > 1:
                    return None
                tp = pf.get(t)
                if tp is None:
                    return None
                if tp["has_components"]:
                    if t in lay:
                        return None
                    queue.append((t, False, 1))
                if avail - used <= 0:
                    break
        return sources

    # -- build ------------------------------------------------------------------------------------
    def build(self) -> _Built:
        lay = self._field_layouts()
        if self.n > _SMALL and self._vectorisable(lay):
            return self._build_vectorised(lay)
        return self._build_emulated()

    def _merged_raw(self, num: int, bt: BaseType, n_el: int) -> np.ndarray:
        shape: tuple[int, ...] = (self.n,) if n_el == 1 or bt.is_string else (self.n, n_el)
        if bt.is_string:
            parts = []
            for p in self.pieces:
                idx = next((i for i, f in enumerate(p.d.fields) if f.num == num and f.size), None)
                parts.append(None if idx is None else p.rec[f"f{idx}"])
            size = max((a.dtype.itemsize for a in parts if a is not None), default=1)
            dtype: Any = f"S{size}"
            fill: Any = b""
        else:
            dtype = np.dtype(bt.np_code)
            fill = np.nan if bt.is_float else bt.invalid
            parts = []
            for p in self.pieces:
                idx = next((i for i, f in enumerate(p.d.fields) if f.num == num and f.size), None)
                if idx is None:
                    if num == FIELD_NUM_TIMESTAMP and p.extra_ts is not None:
                        parts.append(p.extra_ts)
                    else:
                        parts.append(None)
                else:
                    a = p.rec[f"f{idx}"]
                    if (
                        num == FIELD_NUM_TIMESTAMP
                        and p.extra_ts is not None
                        and a.ndim == 1
                        and not bt.is_string
                    ):
                        a = _native(a).astype(dtype)
                        m = p.extra_ts != 0xFFFFFFFF
                        a[m] = p.extra_ts[m]
                    parts.append(a)
        if len(self.pieces) == 1 and parts[0] is not None:
            return _native(parts[0]) if not bt.is_string else parts[0]
        out = np.full(shape, fill, dtype=dtype)
        for a, rows in zip(parts, self.rows, strict=True):
            if a is None:
                continue
            if rows is None:
                out[...] = a
            else:
                out[rows] = a
        return out

    def _build_vectorised(self, lay: dict[int, set[tuple[int, int]]]) -> _Built:
        pf: dict[int, dict[str, Any]] = self.prof["fields"] if self.prof else {}
        cols: dict[str, Any] = {}
        raws: dict[int, tuple[np.ndarray, BaseType]] = {}
        for num, layouts in lay.items():
            fp = pf.get(num)
            name = fp["name"] if fp else f"field_{num}"
            if len(layouts) > 1:
                cols[name] = self._heterogeneous_column(num, fp)
                continue
            (btid, n_el) = next(iter(layouts))
            bt = BASE_TYPES[btid]
            raw = self._merged_raw(num, bt, n_el)
            raws[num] = (raw, bt)
            cols[name] = _transform_column(fp, raw, bt)
        if self.prof is not None:
            plan = self._component_plan(lay) or []
            self._expand(plan, raws, cols)
        self._dev_columns(cols)
        if self.gnum == MESG_NUM_RECORD and FIELD_NUM_TIMESTAMP in raws:
            raw, _bt = raws[FIELD_NUM_TIMESTAMP]
            self.dec.record_ts = raw
        return _Built(self.n, cols=cols)

    def _heterogeneous_column(self, num: int, fp: dict[str, Any] | None) -> Any:
        """A field defined with different base types/sizes by different definitions: per piece."""
        parts: list[tuple[np.ndarray | None, Any]] = []
        for p, rows in zip(self.pieces, self.rows, strict=True):
            idx = next((i for i, f in enumerate(p.d.fields) if f.num == num and f.size), None)
            if idx is None:
                continue
            raw = p.rec[f"f{idx}"]
            bt = BASE_TYPES[p.d.fields[idx].base]
            parts.append((rows, _transform_column(fp, raw if bt.is_string else _native(raw), bt)))
        return _combine_parts(parts, self.n)

    def _expand(
        self,
        plan: list[tuple[int, bool, int, int]],
        raws: dict[int, tuple[np.ndarray, BaseType]],
        cols: dict[str, Any],
    ) -> None:
        assert self.prof is not None
        pf = self.prof["fields"]
        expanded_raw: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # target -> (raw int, rows)
        for num, native, n_el, width in plan:
            fp = pf[num]
            base = FIELD_TYPE_TO_BASE_TYPE[fp["type"]]
            inv = BASE_TYPES[base].invalid
            # the common case (speed -> enhanced_speed, altitude -> enhanced_altitude): one
            # component holding the whole value
            if (
                native
                and n_el == 1
                and len(fp["components"]) == 1
                and fp["bits"][0] == width
                and self._expand_whole(fp, raws[num][0], inv, raws, cols, expanded_raw)
            ):
                continue
            if native:
                raw, _bt = raws[num]
                vals = raw.astype(np.uint64)
                if vals.ndim == 1:
                    present = raw != inv
                    big = vals & np.uint64((1 << width) - 1)
                else:
                    present = (raw != inv).any(axis=1)
                    big = np.zeros(self.n, dtype=np.uint64)
                    for j in range(n_el):
                        big |= (vals[:, j] & np.uint64((1 << width) - 1)) << np.uint64(j * width)
            else:
                if num not in expanded_raw:
                    continue
                rv, present = expanded_raw[num]
                present = present & (rv != inv)
                big = rv.astype(np.uint64) & np.uint64((1 << width) - 1)
            if not present.any():
                continue
            avail = width * n_el
            used = 0
            for i, t in enumerate(fp["components"]):
                nb = fp["bits"][i]
                if avail - used < nb:
                    break
                comp = ((big >> np.uint64(used)) & np.uint64((1 << nb) - 1)).astype(np.int64)
                used += nb
                tp = pf[t]
                if tp["is_accumulated"]:
                    comp = self._accumulate(t, comp, present, nb, raws)
                value = comp.astype(np.float64) / fp["scale"][i] - fp["offset"][i]
                raw_value = (value + tp["offset"][0]) * tp["scale"][0]
                tb = FIELD_TYPE_TO_BASE_TYPE.get(tp["type"])
                tinv = BASE_TYPES[tb].invalid if tb is not None else 0xFF
                ok = present & (raw_value != (0xFF if tinv is None else tinv))
                rv = np.trunc(np.where(present & np.isfinite(raw_value), raw_value, 0))
                expanded_raw[t] = (np.clip(rv, -(2.0**63), 2.0**63 - 1024).astype(np.int64), present)
                new = _expanded_column(tp, value, ok, True)
                name = tp["name"]
                cols[name] = _overlay(cols.get(name), new, present, self.n)
                if avail - used <= 0:
                    break

    def _expand_whole(
        self,
        fp: dict[str, Any],
        raw: np.ndarray,
        inv: int | None,
        raws: dict[int, tuple[np.ndarray, BaseType]],
        cols: dict[str, Any],
        expanded_raw: dict[int, tuple[np.ndarray, np.ndarray]],
    ) -> bool:
        """Fast path of :meth:`_expand` for a single full-width, non-accumulated component."""
        assert self.prof is not None
        t = fp["components"][0]
        tp = self.prof["fields"][t]
        if tp["is_accumulated"] or tp["has_components"] or type_values(tp["type"]) is not None:
            return False
        invalid = _invalid_mask(raw, inv)
        present = np.ones(self.n, dtype=bool) if invalid is None else ~invalid
        if invalid is not None and not present.any():
            return True
        cscale, coffset = fp["scale"][0], fp["offset"][0]
        value = raw.astype(np.float64)
        if cscale != 1:
            value /= cscale
        if coffset != 0:
            value -= coffset
        tb = FIELD_TYPE_TO_BASE_TYPE.get(tp["type"])
        tinv = BASE_TYPES[tb].invalid if tb is not None else 0xFF
        raw_value = value
        if tp["offset"][0] != 0:
            raw_value = raw_value + tp["offset"][0]
        if tp["scale"][0] != 1:
            raw_value = raw_value * tp["scale"][0]
        bad = raw_value == (0xFF if tinv is None else tinv)
        ok = present & ~bad if bad.any() else present
        new = _expanded_column(tp, value, ok, cscale == 1 and float(coffset).is_integer())
        cols[tp["name"]] = _overlay(cols.get(tp["name"]), new, present, self.n)
        return True

    def _accumulate(
        self,
        target: int,
        comp: np.ndarray,
        present: np.ndarray,
        bits: int,
        raws: dict[int, tuple[np.ndarray, BaseType]],
    ) -> np.ndarray:
        """Accumulated values of ``target`` in file order (SDK Accumulator semantics, vectorised)."""
        n = self.n
        key = (self.gnum, target)
        reset = np.zeros(n, dtype=bool)
        reset_val = np.zeros(n, dtype=np.int64)
        if target in raws:
            rraw, rbt = raws[target]
            if rraw.ndim == 1 and not rbt.is_string:
                reset = rraw != rbt.invalid if rbt.invalid is not None else ~np.isnan(rraw)
                reset_val = np.where(reset, rraw, 0).astype(np.int64)
        # events: per row [reset] then [accumulate]
        ev_val = np.empty(2 * n, dtype=np.int64)
        ev_val[0::2] = reset_val
        ev_val[1::2] = comp
        ev_use = np.empty(2 * n, dtype=bool)
        ev_use[0::2] = reset
        ev_use[1::2] = present
        ev_reset = np.zeros(2 * n, dtype=bool)
        ev_reset[0::2] = True
        sel = np.flatnonzero(ev_use)
        v = ev_val[sel]
        is_reset = ev_reset[sel]
        prior = self.dec.accumulator.state.get(key)
        out = np.zeros(n, dtype=np.int64)
        if len(sel):
            mask = (1 << bits) - 1
            prev = np.empty_like(v)
            prev[1:] = v[:-1]
            start = is_reset.copy()
            if prior is None:
                prev[0] = v[0]
                start[0] = True
            else:
                prev[0] = prior[1]
            delta = np.where(start, 0, (v - prev) & mask)
            base0 = prior[0] if prior is not None and not is_reset[0] else 0
            seg = np.cumsum(start)
            csum = np.cumsum(delta)
            starts = np.flatnonzero(start)
            if len(starts) == 0 or starts[0] != 0:
                starts = np.concatenate([[0], starts])
                seg = seg + 1
                seg_base = np.concatenate([[base0], v[starts[1:]]])
                seg_c0 = np.concatenate([[0], csum[starts[1:]]])
            else:
                seg_base = v[starts]
                seg_c0 = csum[starts]
            acc = seg_base[seg - 1] + csum - seg_c0[seg - 1]
            acc_rows = sel[~is_reset] // 2
            out[acc_rows] = acc[~is_reset]
            self.dec.accumulator.state[key] = [int(acc[-1]), int(v[-1])]
        return out

    def _dev_columns(self, cols: dict[str, Any]) -> None:
        pieces_by_col: dict[str, list[tuple[np.ndarray | None, Any]]] = {}
        for p, rows in zip(self.pieces, self.rows, strict=True):
            if not p.d.dev_fields:
                continue
            for j, dfd in enumerate(p.d.dev_fields):
                if dfd.size == 0:
                    continue
                fd = p.dev_table.get((dfd.dev_index, dfd.fdn))
                if fd is None:
                    continue
                vals = _decode_dev(p.rec[f"d{j}"], fd["base"], p.d.little)
                if vals is None:
                    continue
                pieces_by_col.setdefault(self.dec.dev_column(fd["key"]), []).append((rows, vals))
        for col, parts in pieces_by_col.items():
            cols[col] = _combine_parts(parts, self.n)

    # -- emulation path ---------------------------------------------------------------------------
    def _build_emulated(self) -> _Built:
        data = self.dec.data
        emu = self.dec.emulation
        ts_extra = self.dec.compressed_ts
        rows_out: list[dict[str, Any]] = []
        raw_list: list[dict[Any, Any]] = []
        keep_raw = self.gnum in (MESG_NUM_HR, MESG_NUM_RECORD)  # needed by merge_heart_rates
        by_pos: dict[int, _Piece] = {}
        for p in self.pieces:
            for pos in p.positions.tolist():
                by_pos[pos] = p
        for pos in self.positions.tolist():
            p = by_pos[pos]
            d = p.d
            mesg = emu.message_at(d, data, pos, ts_extra.get(pos) if ts_extra else None)
            if self.gnum == MESG_NUM_FIELD_DESCRIPTION:
                mesg["key"] = (
                    self.dec.scan.special_raw[pos]["key"] if pos in self.dec.scan.special_raw else None
                )
            if keep_raw:
                raw_list.append(mesg)
            if d.has_unknown_fields:
                row = {f"field_{k}" if isinstance(k, int) else k: v for k, v in mesg.items()}
            else:
                row = mesg if not keep_raw else dict(mesg)
            if d.dev_fields:
                for dfd in d.dev_fields:
                    fd = p.dev_table.get((dfd.dev_index, dfd.fdn))
                    if fd is None or dfd.size == 0:
                        continue
                    v = _decode_dev_one(data, pos + 1 + dfd.offset, dfd.size, fd["base"], d.little)
                    if v is not None:
                        row[self.dec.dev_column(fd["key"])] = v
            rows_out.append(row)
        return _Built(self.n, rows=rows_out, raw=raw_list if keep_raw else None)


def _fits_int64(values: np.ndarray) -> bool:
    """True when float ``values`` are all finite and exactly representable as int64."""
    return bool(len(values) == 0 or (np.isfinite(values).all() and np.abs(values).max() < 2.0**53))


def _combine_parts(parts: list[tuple[np.ndarray | None, Any]], n: int) -> Any:
    """Merge per-piece columns (rows None = all rows) into one column."""
    if len(parts) == 1 and parts[0][0] is None:
        return parts[0][1]
    numeric = all(isinstance(v, np.ndarray) and v.dtype.kind in "iuf" for _, v in parts)
    if numeric:
        out = np.full(n, np.nan)
        filled = np.zeros(n, dtype=bool)
        for rows, v in parts:
            r = slice(None) if rows is None else rows
            out[r] = v
            filled[r] = True
        if filled.all() and all(v.dtype.kind in "iu" for _, v in parts) and _fits_int64(out):
            return out.astype(np.int64)
        return out
    obj = np.full(n, None, dtype=object)
    for rows, v in parts:
        r = slice(None) if rows is None else rows
        vo = np.asarray(v, dtype=object)
        obj[r] = vo
    return obj


def _decode_dev(raw: np.ndarray, base: int, little: bool) -> np.ndarray | None:
    """Developer field bytes (n, size) -> values as the SDK gives them (no invalid filtering)."""
    bt = BASE_TYPES[base]
    n, size = raw.shape
    if bt.is_string:
        return _object_from([_convert_string(bytes(r)) for r in raw.tolist()])
    k = size // bt.size
    if k == 0:
        return None
    b = np.ascontiguousarray(raw[:, : k * bt.size])
    vals = b.view(("<" if little else ">") + bt.np_code).reshape(n, k)
    vals = _native(vals)
    if k == 1:
        return vals[:, 0]
    return _object_from(vals.tolist())


def _decode_dev_one(data: bytes, off: int, size: int, base: int, little: bool) -> Any:
    bt = BASE_TYPES[base]
    if bt.is_string:
        return _convert_string(data[off : off + size])
    k = size // bt.size
    if k == 0:
        return None
    vals = struct.unpack_from(("<" if little else ">") + f"{k}{_STRUCT_CODES[bt.np_code]}", data, off)
    return list(vals) if k > 1 else vals[0]


def _transform_column(fp: dict[str, Any] | None, raw: np.ndarray, bt: BaseType) -> Any:
    """One native field column, SDK default options (types to strings, scale/offset, datetimes)."""
    if bt.is_string:
        return _object_from([_convert_string(b) for b in raw.tolist()])
    if raw.ndim == 2:
        return _array_column(fp, raw, bt)
    invalid = _invalid_mask(raw, bt.invalid)
    if fp is None:
        return _float_column(raw, None) if bt.is_float else _int_column(raw, invalid)
    ftype = fp["type"]
    if ftype == "date_time" and not bt.is_float and bt.size <= 4:
        return _datetime_column(raw, invalid)
    table = type_values(ftype)
    if table is not None and not bt.is_float:
        mapped = _map_enum(raw, invalid, table)
        if mapped is not None:
            return mapped
    if ftype in NUMERIC_FIELD_TYPES and len(fp["scale"]) <= 1:
        scale = fp["scale"][0] if fp["scale"] else 1
        offset = fp["offset"][0] if fp["offset"] else 0
        if scale != 1 or bt.is_float or isinstance(offset, float):
            vals = raw.astype(np.float64)
            if scale != 1:
                vals /= scale
            if offset != 0:
                vals -= offset
            if invalid is not None:
                vals[invalid] = np.nan
            return vals
        if offset != 0:
            return _int_column(raw.astype(np.int64) - offset, invalid)
    return _float_column(raw, None) if bt.is_float else _int_column(raw, invalid)


def _array_column(fp: dict[str, Any] | None, raw: np.ndarray, bt: BaseType) -> np.ndarray:
    """Multi-value fields as lists (None for invalid elements, the row missing when all are)."""
    inv = bt.invalid
    n = raw.shape[0]
    out = np.full(n, None, dtype=object)
    if inv is None:
        rows = None
        elem_valid = None
    else:
        valid_all = raw != inv
        row_valid = valid_all.any(axis=1)
        if row_valid.all():
            rows = None
        else:
            rows = np.flatnonzero(row_valid)
            raw = raw[rows]
            valid_all = valid_all[rows]
        elem_valid = None if bt.is_byte or valid_all.all() else valid_all
    if len(raw) == 0:
        return out
    ftype = fp["type"] if fp is not None else None
    vals: Any = raw
    if fp is not None and not bt.is_float:
        table = type_values(ftype) if isinstance(ftype, str) else None
        if table is not None:
            vals = _object_from([table.get(v, v) for v in raw.reshape(-1).tolist()]).reshape(raw.shape)
    if fp is not None and ftype in NUMERIC_FIELD_TYPES and len(fp["scale"]) <= 1:
        scale = fp["scale"][0] if fp["scale"] else 1
        offset = fp["offset"][0] if fp["offset"] else 0
        if scale != 1 or offset != 0:
            vals = raw.astype(np.float64)
            if scale != 1:
                vals /= scale
            if offset != 0:
                vals -= offset
    if elem_valid is not None:  # byte arrays keep 0xFF elements; others get None for them
        vals = vals.astype(object)
        vals[~elem_valid] = None
    cells = np.fromiter(vals.tolist(), dtype=object, count=len(vals))
    if rows is None:
        return cells
    out[rows] = cells
    return out


def _expanded_column(tp: dict[str, Any], value: np.ndarray, ok: np.ndarray, maybe_int: bool) -> Any:
    """An expanded component (the SDK keeps ints when integral, names for enum targets).

    ``ok``: rows with a valid value; ``maybe_int``: False when the values are known to be
    fractional-scaled (the column is float then)."""
    invalid = None if ok.all() else ~ok
    table = type_values(tp["type"])
    if table is not None:
        iv = np.where(ok, value, 0)
        if _fits_int64(iv) and np.all(iv == np.trunc(iv)):
            mapped = _map_enum(iv.astype(np.int64), invalid, table)
            if mapped is not None:
                return mapped
    if maybe_int and invalid is None and _fits_int64(value) and np.all(value == np.trunc(value)):
        return value.astype(np.int64)
    if invalid is not None:
        value = value.copy()
        value[invalid] = np.nan
    return value


def _overlay(native: Any, new: Any, rows: np.ndarray, n: int) -> Any:
    """``new`` where ``rows`` (the SDK overwrites a native field with its expansion), else native."""
    if native is None:
        if rows.all():
            return new
        native = np.full(n, np.nan)
    if rows.all():
        return new
    if (
        isinstance(new, np.ndarray)
        and isinstance(native, np.ndarray)
        and new.dtype.kind in "if"
        and (native.dtype.kind in "if")
    ):
        out = native.astype(np.float64)
        out[rows] = new[rows]
        return out
    out_o = np.asarray(native, dtype=object).copy()
    out_o[rows] = np.asarray(new, dtype=object)[rows]
    return out_o


@dataclass(slots=True, eq=False)
class _Built:
    """The decoded columns (vectorised path) or rows (emulation path) of one message type."""

    n: int
    cols: dict[str, Any] | None = None
    rows: list[dict[str, Any]] | None = None
    raw: list[dict[Any, Any]] | None = None

    def frame(self) -> pd.DataFrame:
        with _no_gc():
            return self._frame()

    def _frame(self) -> pd.DataFrame:
        if self.cols:
            return pd.DataFrame(self.cols, copy=False)
        if not self.rows or not any(self.rows):
            return pd.DataFrame(index=pd.RangeIndex(self.n))
        return pd.DataFrame.from_records(self.rows)


class LazyFrames(MutableMapping[str, pd.DataFrame]):
    """``FitFile.messages`` of the engine: every message type is fully decoded into arrays; the pandas
    DataFrame wrapping them is built on first access (it costs more than decoding small, wide
    message types) and then kept."""

    def __init__(self, built: dict[str, _Built]) -> None:
        self._built = built
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, key: str) -> pd.DataFrame:
        frame = self._frames.get(key)
        if frame is None:
            frame = self._built[key].frame()
            self._frames[key] = frame
        return frame

    def rows(self, key: str) -> list[dict[str, Any]]:
        """The messages of one type as dicts (missing fields absent or NaN), without building a
        DataFrame: much cheaper for the small message types (laps, sessions, events, devices)."""
        built = self._built.get(key)
        if built is None:
            return []
        if key in self._frames or (built.rows is None and not built.cols):
            return self[key].to_dict("records")
        if built.rows is not None:
            return [dict(r) for r in built.rows]
        assert built.cols is not None
        names = list(built.cols)
        columns = [list(built.cols[n]) for n in names]
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]

    def __setitem__(self, key: str, value: pd.DataFrame) -> None:
        self._frames[key] = value
        self._built.setdefault(key, _Built(len(value)))

    def __delitem__(self, key: str) -> None:
        del self._built[key]
        self._frames.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._built)

    def __len__(self) -> int:
        return len(self._built)

    def __contains__(self, key: object) -> bool:
        return key in self._built

    def __repr__(self) -> str:
        return f"LazyFrames({ {k: b.n for k, b in self._built.items()} })"


class _Decoder:
    """Turns a finished scan into a :class:`FitFile`."""

    def __init__(self, data: bytes, scan: _Scanner) -> None:
        self.data = data
        self.scan = scan
        self.accumulator = _Accumulator()
        self.emulation = _SdkEmulation(self.accumulator)
        self.compressed_ts: dict[int, int] = {}
        self.record_ts: np.ndarray | None = None
        self.dev_infos: list[DeveloperFieldInfo] = describe_developer_fields(
            [_sdk_like(r) for r in scan.registry.developer_data_ids],
            [_sdk_like(r) for r in scan.registry.field_descriptions],
        )
        if len(self.dev_infos) != len(scan.registry.field_descriptions):
            raise AssertionError("developer field descriptions and infos are out of step")

    def dev_column(self, key: int) -> str:
        if 0 <= key < len(self.dev_infos):
            return self.dev_infos[key].column
        return f"dev_unknown_{key}"

    def run(self) -> FitFile:
        scan = self.scan
        by_global: dict[int, list[_Piece]] = {}
        order: list[int] = []
        reg = scan.registry
        pieces_all: list[_Piece] = []
        for d in scan.defs:
            if not d.positions:
                continue
            pos = np.asarray(d.positions, dtype=np.int64)
            if d.dev_fields and reg.epoch_offsets:
                ep = np.searchsorted(np.asarray(reg.epoch_offsets), pos, side="right")
                cuts = np.flatnonzero(np.diff(ep)) + 1
                groups = np.split(np.arange(len(pos)), cuts)
                parts = [(pos[g], reg.snapshots[int(ep[g[0]])]) for g in groups]
            else:
                parts = [(pos, reg.snapshots[-1] if d.dev_fields else {})]
            for ppos, table in parts:
                piece = _Piece(d, ppos, _gather(self.data, d, ppos), table)
                pieces_all.append(piece)
                if d.gnum not in by_global:
                    by_global[d.gnum] = []
                    order.append(d.gnum)
                by_global[d.gnum].append(piece)
        if scan.compressed:
            self._compressed_timestamps(pieces_all)
        built: dict[int, _Built] = {}
        # hr messages are emulated and needed by record (merge_heart_rates): build them first
        for g in sorted(order, key=lambda g: g != MESG_NUM_HR):
            built[g] = _MessageBuilder(self, g, by_global[g]).build()
        if MESG_NUM_HR in built and MESG_NUM_RECORD in built:
            self._merge_hr(built[MESG_NUM_RECORD], built[MESG_NUM_HR].raw or [])
        frames = LazyFrames({_name(g): built[g] for g in order})
        return FitFile(
            messages=frames,
            developer_fields=list(self.dev_infos),
            problems=list(scan.problems),
        )

    def _compressed_timestamps(self, pieces: list[_Piece]) -> None:
        events: list[tuple[int, int, int]] = []  # (pos, kind 0 native/1 compressed, value)
        for p in pieces:
            idx = next(
                (
                    i
                    for i, f in enumerate(p.d.fields)
                    if f.num == FIELD_NUM_TIMESTAMP
                    and f.n_el == 1
                    and f.size
                    and not BASE_TYPES[f.base].is_float
                    and not BASE_TYPES[f.base].is_string
                ),
                None,
            )
            if idx is None:
                continue
            raw = _native(p.rec[f"f{idx}"])
            ok = raw != BASE_TYPES[p.d.fields[idx].base].invalid
            events.extend((int(a), 0, int(b)) for a, b in zip(p.positions[ok], raw[ok], strict=True))
        comp = dict(self.scan.compressed)
        events.extend((pos, 1, off) for pos, off in comp.items())
        events.sort()
        seq_starts = self.scan.seq_starts
        acc = 0
        si = 0
        for pos, kind, val in events:
            while si < len(seq_starts) and seq_starts[si] <= pos:
                acc = 0  # fitdecode resets its accumulator per chained sequence
                si += 1
            if kind == 0:
                if pos not in comp:
                    acc = val
                continue
            base = val + (acc & ~0x1F)
            if val < (acc & 0x1F):
                base += 0x20
            acc = base & 0xFFFFFFFF
            self.compressed_ts[pos] = acc
        for p in pieces:
            ts = [self.compressed_ts.get(x, 0xFFFFFFFF) for x in p.positions.tolist()]
            if any(t != 0xFFFFFFFF for t in ts):
                p.extra_ts = np.asarray(ts, dtype=np.uint32)

    def _merge_hr(self, rec: _Built, hr_raw: list[dict[Any, Any]]) -> None:
        if not rec.n or not hr_raw:
            return
        ts_list: list[Any]
        if rec.raw is not None:
            ts_list = []
            for m in rec.raw:
                t = m.get("timestamp")
                ts_list.append(t.timestamp() - FIT_EPOCH_S if isinstance(t, datetime) else t)
        elif self.record_ts is not None:
            ts_list = self.record_ts.astype(np.float64).tolist()
        else:
            ts_list = [None]
        if any(t is None or t == 0xFFFFFFFF for t in ts_list):
            self.scan.problems.append(FitProblem("other", 0, "merge_heart_rates: a record has no timestamp"))
            return
        try:
            updates = _merge_heart_rates(hr_raw, ts_list)
        except (KeyError, ValueError, TypeError) as exc:
            self.scan.problems.append(FitProblem("other", 0, f"merge_heart_rates failed: {exc}"))
            return
        if not updates:
            return
        if rec.rows is not None:
            for i, v in updates.items():
                rec.rows[i]["heart_rate"] = v
            return
        assert rec.cols is not None
        idx = np.fromiter(updates.keys(), dtype=np.int64)
        val = np.fromiter(updates.values(), dtype=np.float64)
        old = rec.cols.get("heart_rate")
        col = np.full(rec.n, np.nan) if old is None else np.asarray(old, dtype=np.float64).copy()
        col[idx] = val
        rec.cols["heart_rate"] = col if np.isnan(col).any() else col.astype(np.int64)


def _name(g: int) -> str:
    prof = message_profile(g)
    return prof["name"] if prof else f"mesg_{g}"


_INT_KEYS: Final[frozenset[str]] = frozenset(
    {
        "developer_data_index",
        "field_definition_number",
        "fit_base_type_id",
        "native_mesg_num",
        "native_field_num",
        "manufacturer_id",
        "application_version",
    }
)
_STR_KEYS: Final[frozenset[str]] = frozenset({"field_name", "units"})


def _sdk_like(raw: dict[Any, Any]) -> dict[Any, Any]:
    """A developer_data_id/field_description message as the SDK returns it, with values of a wrong
    shape (damaged files) dropped so the shared column naming cannot fail on them."""
    out: dict[Any, Any] = {}
    for k, v in raw.items():
        v = _sanitize(v)
        if k in _INT_KEYS and not isinstance(v, int):
            continue
        if k in _STR_KEYS and not isinstance(v, str):
            continue
        if k == "application_id" and not isinstance(v, list):
            continue
        out[k] = v
    return out


# --------------------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------------------
def decode_fit_bytes(data: bytes, *, strict: bool = False, source: str | None = None) -> FitFile:
    """Decode FIT bytes (see :func:`read_fit`)."""
    with _no_gc():
        return _decode(data, strict, source)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: decoding allocates many small acyclic objects (lists,
    dicts) and the collector's repeated passes over them would cost more than the decoding."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _decode(data: bytes, strict: bool, source: str | None) -> FitFile:
    scan = _Scanner(data, strict, source)
    scan.run()
    try:
        # float fields of damaged files may hold signalling NaNs; converting them must not warn
        with np.errstate(invalid="ignore", over="ignore"):
            return _Decoder(data, scan).run()
    except Exception as exc:  # safety net: lenient decoding never raises (tests assert this is unused)
        if strict:
            raise FitDecodeError(f"{INTERNAL_ERROR}: {exc!r}", source=source) from exc
        problems = [*scan.problems, FitProblem("other", 0, f"{INTERNAL_ERROR}: {exc!r}")]
        return FitFile(messages={}, developer_fields=[], problems=problems)


def read_fit(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO, *, strict: bool = False
) -> FitFile:
    """Decode a FIT file with the fast engine.

    ``source`` is a path, the file's bytes, or a binary file object. Returns a :class:`FitFile` with
    the same values the official SDK gives (default options), every chained sequence included.

    Lenient (default): never raises on a damaged file; every complete message before a fault is
    kept, later chained sequences are found when possible, and each fault is listed in
    ``FitFile.problems`` (kind, byte offset, message). ``strict=True`` raises
    :class:`FitDecodeError` naming the offset of the first fault instead.
    """
    name: str | None = None
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        data = Path(name).read_bytes()
    elif isinstance(source, io.TextIOBase):
        raise TypeError(
            "Invalid value for the 'source' parameter: the file object must be opened in binary mode "
            "(open(path, 'rb'))"
        )
    elif isinstance(source, io.IOBase) or hasattr(source, "read"):
        data = source.read()
        name = getattr(source, "name", None) if isinstance(getattr(source, "name", None), str) else None
        if not isinstance(data, bytes | bytearray):
            raise TypeError(
                "Invalid value for the 'source' parameter: the file object must be opened in binary mode"
            )
        data = bytes(data)
    else:
        raise TypeError(
            "Invalid value for the 'source' parameter. Allowed values are a path, bytes or a binary file, "
            f"but got {type(source).__name__} instead."
        )
    return decode_fit_bytes(data, strict=strict, source=name)
