"""The scanner of the fast engine: finds every message boundary of a FIT file and parses definitions.

One tight Python loop over record headers: a data message costs one table look-up, one list append
and one addition; a run of messages of one definition is found with a single strided bytes slice
(``lstrip`` of the repeated header byte) and appended as a ``range``; definitions are parsed once and
a definition sent again (some devices re-send one before every message) costs one dict look-up.
Damage (truncation, undefined local message types, bad CRCs, oversize ``data_size``) becomes a
:class:`FitProblem`; the scan then resynchronises on the next chained sequence when one exists. The
CRCs are computed with numpy (:mod:`._crc`). Developer data ids and field descriptions are decoded
as they are met (:class:`Registry`), as the SDK does.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import Any, Final

from stridelab.io.fit._crc import crc16
from stridelab.io.fit._defs import Def, DevFieldDef, FieldDef, read_raw_fields
from stridelab.io.fit._profile import (
    BASE_TYPE_MASK,
    BASE_TYPES,
    BYTE,
    MESG_NUM_DEVELOPER_DATA_ID,
    UINT8,
)
from stridelab.io.fit._types import FitDecodeError, FitProblem

__all__ = ["Registry", "Scanner"]

#: problem kinds that ``strict=True`` turns into a FitDecodeError (misaligned fields are a tolerated
#: quirk of real devices that the SDK decodes too, so they are only reported).
_STRICT_KINDS: Final[frozenset[str]] = frozenset(
    {"header_crc", "file_crc", "truncated", "undefined_local_message", "data_size", "bad_header", "other"}
)


class Registry:
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


class Scanner:
    """Finds message boundaries and parses definitions; collects problems."""

    def __init__(self, data: bytes, strict: bool, source: str | None) -> None:
        self.data = data
        self.n = len(data)
        self.strict = strict
        self.source = source
        self.problems: list[FitProblem] = []
        self.defs: list[Def] = []
        self.local: list[Def | None] = [None] * 16
        self.app_tab: list[Callable[[int], None] | None] = [None] * 256
        self.size_tab: list[int] = [0] * 256
        self.compressed: list[tuple[int, int]] = []  # (offset, time offset) of compressed headers
        self.seq_starts: list[int] = []
        self.registry = Registry()
        self.special_raw: dict[int, dict[Any, Any]] = {}  # offset -> raw message (206/207)
        self._misaligned_seen: set[tuple[int, int]] = set()
        self._def_cache: dict[bytes, Def] = {}
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

    def _new_definition(self, pos: int, end: int) -> Def:
        data = self.data
        h = data[pos]
        little = data[pos + 2] == 0
        gnum = data[pos + 3] | (data[pos + 4] << 8) if little else (data[pos + 3] << 8) | data[pos + 4]
        nf = data[pos + 5]
        q = pos + 6
        fields: list[FieldDef] = []
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
            fields.append(FieldDef(num, size, bt, size // BASE_TYPES[bt].size, off))
            off += size
        devs: list[DevFieldDef] = []
        if h & 0x20:
            nd = data[q]
            q += 1
            for _ in range(nd):
                devs.append(DevFieldDef(data[q], data[q + 1], data[q + 2], off))
                off += data[q + 1]
                q += 3
        d = Def(gnum, little, fields, devs, 1 + off, pos)
        if not d.special:
            d.app = d.positions.append
        self.defs.append(d)
        return d

    def _special(self, d: Def, pos: int) -> None:
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
