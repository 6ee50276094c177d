"""The fast FIT decoding engine: exact (same values as the official SDK), forgiving, numpy-vectorised.

This module ties its layers together (:func:`decode_fit_bytes`, :func:`read_fit`).

How it works
------------
1. **Scan** (:class:`~._scanner.Scanner`; definitions in :mod:`._defs`): one tight Python loop over
   record headers finds every message boundary. A data message costs one table look-up, one list
   append and one addition; a run of messages of one definition is found with a single strided
   bytes slice (``lstrip`` of the repeated header byte) and appended as a ``range``; definitions
   are parsed once and a definition sent again (some devices re-send one before every message)
   costs one dict look-up. Damage (truncation, undefined local message types, bad CRCs, oversize
   ``data_size``) becomes a :class:`FitProblem`; the scan then resynchronises on the next chained
   sequence when one exists. The CRCs are computed with numpy (:mod:`._crc`).
2. **Decode** (:mod:`._builder`): the data messages of one definition are gathered (a zero-copy
   view when they are contiguous, else one row gather) and read in one ``numpy`` call with a
   structured dtype.
3. **Profile** (:mod:`._builder`, :mod:`._columns`): per global message type, the rows of all its
   definitions are merged in file order and every field is transformed column-wise: scale/offset,
   enum names, UTC timestamps, invalid sentinels as missing, components expanded (bit fields;
   accumulation as a segmented cumsum). Message types whose profile features do not vectorise
   cleanly (sub-fields, fields expanded from several sources: ``event``, ``device_info``, ``lap``,
   ``hr``...) and types with few rows (where columns cost more than messages) go through
   :class:`~._slowpath.SdkEmulation`, a message-at-a-time port of the SDK's own logic, so they are
   exact by construction.
4. ``hr`` messages are merged into ``record.heart_rate`` exactly as the SDK's ``merge_heart_rates``
   (:mod:`._hrmerge`).
5. ``FitFile.messages`` is a :class:`LazyFrames` mapping: the scan and the ``hr`` and ``record``
   messages are decoded eagerly, every other message type (which depends on nothing but the scan)
   when first accessed; the pandas DataFrame of a message type is built when first accessed
   (:mod:`._frames`).

The cyclic garbage collector is paused while decoding (only acyclic objects are created, and its
passes over the many small lists/dicts would cost more than the decoding).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np

from stridelab.io.fit._builder import MessageBuilder, Piece
from stridelab.io.fit._columns import native_order
from stridelab.io.fit._defs import FIT_EPOCH_S
from stridelab.io.fit._frames import Built, LazyFrames, no_gc
from stridelab.io.fit._hrmerge import merge_heart_rates
from stridelab.io.fit._profile import (
    BASE_TYPES,
    FIELD_NUM_TIMESTAMP,
    MESG_NUM_HR,
    MESG_NUM_RECORD,
    message_profile,
)
from stridelab.io.fit._scanner import Scanner
from stridelab.io.fit._sdk import describe_developer_fields
from stridelab.io.fit._slowpath import Accumulator, SdkEmulation, sanitize
from stridelab.io.fit._types import DeveloperFieldInfo, FitDecodeError, FitFile, FitProblem

__all__ = ["INTERNAL_ERROR", "Decoder", "decode_fit_bytes", "read_fit"]

#: text of the problem reported when the engine itself failed (never expected; the fuzz tests check)
INTERNAL_ERROR: Final[str] = "internal decoder error"


class Decoder:
    """Turns a finished scan into a :class:`FitFile`."""

    def __init__(self, data: bytes, scan: Scanner) -> None:
        self.data = data
        self.scan = scan
        self.accumulator = Accumulator()
        self.emulation = SdkEmulation(self.accumulator)
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
        by_global: dict[int, list[Piece]] = {}
        order: list[int] = []
        reg = scan.registry
        pieces_all: list[Piece] = []
        for d in scan.defs:
            pos = scan.positions(d)
            if not len(pos):
                continue
            if d.dev_fields and reg.epoch_offsets:
                ep = np.searchsorted(np.asarray(reg.epoch_offsets), pos, side="right")
                cuts = np.flatnonzero(np.diff(ep)) + 1
                groups = np.split(np.arange(len(pos)), cuts)
                parts = [(pos[g], reg.snapshots[int(ep[g[0]])]) for g in groups]
            else:
                parts = [(pos, reg.snapshots[-1] if d.dev_fields else {})]
            for ppos, table in parts:
                piece = Piece(d, ppos, self.data, table)
                pieces_all.append(piece)
                if d.gnum not in by_global:
                    by_global[d.gnum] = []
                    order.append(d.gnum)
                by_global[d.gnum].append(piece)
        if scan.compressed:
            self._compressed_timestamps(pieces_all)
        built: dict[int, Built | Callable[[], Built]] = {}
        # hr messages are emulated and needed by record (merge_heart_rates): build them first. The
        # other types depend on nothing but the scan (the accumulator is keyed by message type):
        # they are decoded when first accessed.
        for g in (MESG_NUM_HR, MESG_NUM_RECORD):
            if g in by_global:
                built[g] = MessageBuilder(self, g, by_global[g]).build()
        hr, rec = built.get(MESG_NUM_HR), built.get(MESG_NUM_RECORD)
        if isinstance(hr, Built) and isinstance(rec, Built):
            self._merge_hr(rec, hr.raw or [])
        problems = list(scan.problems)
        for g in order:
            if g not in built:
                built[g] = partial(self._build_later, g, by_global[g], problems)
        frames = LazyFrames({_name(g): built[g] for g in order})
        return FitFile(messages=frames, developer_fields=list(self.dev_infos), problems=problems)

    def _build_later(self, gnum: int, pieces: list[Piece], problems: list[FitProblem]) -> Built:
        """Decode one message type on first access; an engine failure (never expected: the fuzz
        tests check) becomes a problem of the file, as when decoding eagerly."""
        try:
            with no_gc(), np.errstate(invalid="ignore", over="ignore"):
                return MessageBuilder(self, gnum, pieces).build()
        except Exception as exc:
            if self.scan.strict:
                raise FitDecodeError(f"{INTERNAL_ERROR}: {exc!r}", source=self.scan.source) from exc
            problems.append(FitProblem("other", 0, f"{INTERNAL_ERROR}: {exc!r} ({_name(gnum)})"))
            return Built(0)

    def _compressed_timestamps(self, pieces: list[Piece]) -> None:
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
            raw = native_order(p.rec[f"f{idx}"])
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

    def _merge_hr(self, rec: Built, hr_raw: list[dict[Any, Any]]) -> None:
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
            updates = merge_heart_rates(hr_raw, ts_list)
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
        v = sanitize(v)
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
    with no_gc():
        return _decode(data, strict, source)


def _decode(data: bytes, strict: bool, source: str | None) -> FitFile:
    scan = Scanner(data, strict, source)
    scan.run()
    try:
        # float fields of damaged files may hold signalling NaNs; converting them must not warn
        with np.errstate(invalid="ignore", over="ignore"):
            return Decoder(data, scan).run()
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
