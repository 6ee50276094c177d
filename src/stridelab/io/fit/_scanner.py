"""The scanner of the fast engine: finds every message boundary of a FIT file and parses definitions.

One tight Python loop over record headers: a data message costs one table look-up, one list append
and one addition; a run of messages of one definition is found with a single strided bytes slice
(``lstrip`` of the repeated header byte) and appended as a ``range``; definitions are parsed once and
a definition sent again (some devices re-send one before every message) costs one dict look-up.
Damage (truncation, undefined local message types, bad CRCs, oversize ``data_size``) becomes a
:class:`FitProblem`; the scan then resynchronises on the next chained sequence when one exists. The
CRCs are computed with numpy (:mod:`._crc`). Developer data ids and field descriptions are decoded
as they are met (:class:`Registry`), as the SDK does.

Files that defeat the run detection (message types interleaved message by message, a definition
re-sent before every message) hand the rest of the walk, after :data:`~._scankernel.COMPILED_AFTER`
Python steps, to the compiled loop of :mod:`._scankernel` (loaded once the process has spent
:data:`~._scankernel.LOAD_AFTER_STEPS` such steps), which stops at anything but plain data messages
and known definitions and lets this scanner handle those exactly as before.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import Any, Final

import numpy as np

from stridelab.io.fit._crc import crc16
from stridelab.io.fit._defs import Def, DevFieldDef, FieldDef, read_raw_fields
from stridelab.io.fit._profile import (
    BASE_TYPE_MASK,
    BASE_TYPES,
    BYTE,
    MESG_NUM_DEVELOPER_DATA_ID,
    UINT8,
)
from stridelab.io.fit._scankernel import COMPILED_AFTER, FULL, Tables, scan_loop, worth_loading
from stridelab.io.fit._types import FitDecodeError, FitProblem

__all__ = ["Registry", "Scanner"]

#: problem kinds that ``strict=True`` turns into a FitDecodeError (misaligned fields are a tolerated
#: quirk of real devices that the SDK decodes too, so they are only reported).
_STRICT_KINDS: Final[frozenset[str]] = frozenset(
    {"header_crc", "file_crc", "truncated", "undefined_local_message", "data_size", "bad_header", "other"}
)
#: parsed definitions shared by the files decoded in this process, by definition bytes (the same
#: device writes the same definitions in every file): (gnum, little, fields, developer fields, size);
#: only definitions whose parsing reported no problem; bounded, oldest dropped first
_TEMPLATES: dict[bytes, tuple[int, bool, list[FieldDef], list[DevFieldDef], int]] = {}
_TEMPLATES_MAX: Final[int] = 4096
#: the compiled loop compares a definition message with every known one: files with more distinct
#: definitions than this stay on the Python walk (a dict look-up per definition)
_KERNEL_MAX_DEFS: Final[int] = 256
#: calls of the compiled loop that advance fewer than 4 messages (the file keeps needing the Python
#: scanner) after which the Python walk takes the file back
_KERNEL_MAX_SHORT_CALLS: Final[int] = 1024


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

    def __init__(
        self, data: bytes, strict: bool, source: str | None, *, compiled: bool | None = None
    ) -> None:
        """``compiled``: None hands the walk to the compiled loop after ``COMPILED_AFTER`` Python
        steps, True from the start, False never (the tests compare the walks)."""
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
        self._key_shape: list[tuple[int, bool]] = []  # per definition: key length, developer flag
        self._compiled_mode = compiled
        self._steps = 0 if compiled is None else (COMPILED_AFTER if compiled else -(1 << 62))
        self._tables: Tables | None = None
        self._kernel_on = False
        self._short_calls = 0
        self._found: dict[int, np.ndarray] = {}

    # -- problems ---------------------------------------------------------------------------------
    def problem(self, kind: str, offset: int, message: str) -> None:
        self.problems.append(FitProblem(kind, offset, message))
        if self.strict and kind in _STRICT_KINDS:
            raise FitDecodeError(f"{kind}: {message}", offset=offset, source=self.source)

    # -- file level -------------------------------------------------------------------------------
    def run(self) -> None:
        self._run()
        self._collect()

    def positions(self, d: Def) -> np.ndarray:
        """The file offsets (int64, in file order) of the data messages of definition ``d``."""
        found = self._found.get(d.index)
        return found if found is not None else np.asarray(d.positions, dtype=np.int64)

    def _run(self) -> None:
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
        steps = self._steps
        while True:
            if self._kernel_on:
                pos = self._compiled(pos, end)
                if pos >= end:
                    return None
                h = data[pos]
            else:
                while pos < end and steps < COMPILED_AFTER:
                    h = data[pos]
                    app = app_tab[h]
                    if app is None:
                        break
                    if h == last_h:
                        # a run of messages of one definition: their header bytes repeat every
                        # `size` bytes; find the run's length with one strided slice (exact by
                        # induction)
                        size = size_tab[h]
                        seg = data[pos : min(end, pos + size * 512) : size]
                        k = len(seg) - len(seg.lstrip(seg[:1]))
                        app.__self__.extend(range(pos, pos + k * size, size))  # type: ignore[attr-defined]
                        pos += k * size
                        last_h = -1
                        continue
                    last_h = h
                    steps += 1
                    app(pos)
                    pos += size_tab[h]
                else:
                    self._steps = steps
                    if pos < end:  # many single steps: the compiled loop takes the rest
                        if self._compiled_mode is None and not worth_loading(COMPILED_AFTER):
                            steps = self._steps = 0  # not yet worth loading: ask again later
                        elif not self._start_kernel():
                            steps = self._steps = -(1 << 62)
                        continue
                    if pos > end and app is not None:  # the last message runs past the data
                        start = pos - size_tab[h]
                        app.__self__.pop()  # type: ignore[attr-defined]
                        self._overrun(start, end)
                    return None
                steps += 1
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

    # -- the compiled loop (._scankernel) -----------------------------------------------------------
    def _start_kernel(self) -> bool:
        """Hand the walk to the compiled loop; False when this file should stay on the Python one."""
        if len(self.defs) > _KERNEL_MAX_DEFS or self._short_calls >= _KERNEL_MAX_SHORT_CALLS:
            return False
        if self._tables is None:
            self._u8 = np.frombuffer(self.data, dtype=np.uint8)
            self._tables = Tables(self.n)
            for d in self.defs:
                klen, dev = self._key_shape[d.index]
                self._tables.add_definition(d.size, d.special, d.offset, klen, dev)
        self._kernel_on = True
        return True

    def _compiled(self, pos: int, end: int) -> int:
        """Run the compiled loop from ``pos``; returns where it stopped (``end``, or a message for
        the Python scanner). The local message types it changed are set back on this scanner."""
        t = self._tables
        assert t is not None
        if t.n_defs > _KERNEL_MAX_DEFS:
            self._kernel_on = False
            return pos
        kernel = scan_loop()
        local = self.local
        local_idx = np.array([-1 if d is None else d.index for d in local], dtype=np.int64)
        n_before = t.n_out + sum(len(c[0]) for c in t.pos_chunks)
        while True:
            status, pos, t.n_out, t.n_comp = kernel(
                self._u8, pos, end, local_idx, t.size, t.special, t.off, t.klen, t.dev, t.n_defs,
                t.out_pos, t.out_def, t.n_out, t.comp_pos, t.comp_off, t.n_comp,
            )  # fmt: skip
            if status != FULL:
                break
            t.flush()
        defs = self.defs
        for i, idx in enumerate(local_idx.tolist()):
            d = None if idx < 0 else defs[idx]
            if local[i] is not d:
                local[i] = d
                self._local_keys[i] = b""
                self.app_tab[i] = None if d is None else d.app
                self.size_tab[i] = 0 if d is None else d.size
        if t.n_out + sum(len(c[0]) for c in t.pos_chunks) - n_before < 4 and pos < end:
            self._short_calls += 1
            if self._short_calls >= _KERNEL_MAX_SHORT_CALLS:
                self._kernel_on = False
        return pos

    def _collect(self) -> None:
        """The positions found by the compiled loop, merged per definition with the Python ones."""
        t = self._tables
        if t is None:
            return
        t.flush()
        if t.comp_chunks:
            for cpos, coff in t.comp_chunks:
                self.compressed.extend(zip(cpos.tolist(), coff.tolist(), strict=True))
            self.compressed.sort()
        if not t.pos_chunks:
            return
        pos = np.concatenate([c[0] for c in t.pos_chunks])
        idx = np.concatenate([c[1] for c in t.pos_chunks])
        order = np.argsort(idx, kind="stable")
        counts = np.bincount(idx, minlength=len(self.defs)).tolist()
        pos = pos[order]
        start = 0
        for i, c in enumerate(counts):
            if not c:
                continue
            found = pos[start : start + c]
            start += c
            d = self.defs[i]
            if d.positions:
                found = np.sort(np.concatenate([np.asarray(d.positions, dtype=np.int64), found]))
            self._found[i] = found

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
            d = self._new_definition(pos, end, key)
            self._def_cache[key] = d
        self._local_keys[local] = key
        self.local[local] = d
        # only the plain header byte (reserved bits 4-5 clear) takes the fast path; headers with
        # reserved bits set are rare and handled by the slow path (which ignores those bits)
        self.app_tab[local] = d.app
        self.size_tab[local] = d.size
        return q

    def _new_definition(self, pos: int, end: int, key: bytes) -> Def:
        data = self.data
        h = data[pos]
        template = _TEMPLATES.get(key)
        if template is not None:  # the same definition in an earlier file (same device): no parsing
            return self._add_definition(Def(*template, pos), pos, len(key) - (1 if h & 0x20 else 0), h)
        clean = True  # no field needed a problem report (only those are shared between files)
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
                clean = False
            if size % BASE_TYPES[bt].size:
                clean = False
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
        if clean:
            _TEMPLATES[key] = (gnum, little, fields, devs, 1 + off)
            if len(_TEMPLATES) > _TEMPLATES_MAX:  # bounded (a hostile file may hold thousands)
                _TEMPLATES.pop(next(iter(_TEMPLATES)))
        return self._add_definition(Def(gnum, little, fields, devs, 1 + off, pos), pos, q - pos - 1, h)

    def _add_definition(self, d: Def, pos: int, key_len: int, h: int) -> Def:
        if not d.special:
            d.app = d.positions.append
        d.index = len(self.defs)
        self.defs.append(d)
        self._key_shape.append((key_len, bool(h & 0x20)))
        if self._tables is not None:
            self._tables.add_definition(d.size, d.special, pos, key_len, bool(h & 0x20))
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
