"""The vectorised builder of the fast engine: the messages of one global type into columns.

The data messages of one definition are gathered (a zero-copy view when they are contiguous, else
one row gather) and read in one ``numpy`` call with a structured dtype (:class:`Piece`). Per global
message type, the rows of all its definitions are merged in file order and every field is
transformed column-wise (:mod:`._columns`), components expanded (bit fields; accumulation as a
segmented cumsum). Types that do not vectorise, or have few rows, go message by message through
:class:`~._slowpath.SdkEmulation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np

from stridelab.io.fit._columns import (
    combine_parts,
    decode_dev,
    decode_dev_one,
    expanded_column,
    invalid_mask,
    native_order,
    overlay,
    transform_column,
)
from stridelab.io.fit._defs import SPECIAL, Def
from stridelab.io.fit._frames import Built
from stridelab.io.fit._profile import (
    BASE_TYPES,
    FIELD_NUM_TIMESTAMP,
    FIELD_TYPE_TO_BASE_TYPE,
    MESG_NUM_FIELD_DESCRIPTION,
    MESG_NUM_HR,
    MESG_NUM_RECORD,
    BaseType,
    message_profile,
    type_values,
)
from stridelab.io.fit._scanner import Scanner
from stridelab.io.fit._slowpath import Accumulator, SdkEmulation

__all__ = ["BuildContext", "MessageBuilder", "Piece", "gather"]

_UINT32: Final[int] = 6
#: message types with at most this many rows are decoded message by message (cheaper than columns)
_SMALL: Final[int] = 16


@dataclass(slots=True, eq=False)
class Piece:
    """The messages of one definition (and one developer-registry epoch), decoded as arrays."""

    d: Def
    positions: np.ndarray  # int64 file offsets
    data: bytes  # the file
    dev_table: dict[tuple[int, int], dict[str, Any]]
    extra_ts: np.ndarray | None = None  # timestamps from compressed headers (uint32, invalid elsewhere)
    _rec: np.ndarray | None = None

    @property
    def rec(self) -> np.ndarray:
        """The messages as one structured array (gathered on first use: a message type that is
        never accessed is never gathered)."""
        if self._rec is None:
            self._rec = gather(self.data, self.d, self.positions)
        return self._rec


def gather(data: bytes, d: Def, pos: np.ndarray) -> np.ndarray:
    """The messages of definition ``d`` at file offsets ``pos`` as one structured array."""
    dt = d.dtype()
    n = len(pos)
    p0 = int(pos[0])
    if n == 1 or int(pos[-1]) - p0 == (n - 1) * d.size:
        return np.frombuffer(data, dtype=dt, count=n, offset=p0)
    # one opaque (void) message starting at every byte, gathered by row, then given its fields
    opaque = np.dtype((np.void, d.size))
    every_byte = np.ndarray(shape=(len(data) - d.size + 1,), dtype=opaque, buffer=data, strides=(1,))
    rows: np.ndarray = every_byte[pos]
    return rows.view(dt)


class BuildContext(Protocol):
    """What a :class:`MessageBuilder` uses of the decoder that runs it (``_decoder.Decoder``)."""

    data: bytes
    scan: Scanner
    accumulator: Accumulator
    emulation: SdkEmulation
    compressed_ts: dict[int, int]
    record_ts: np.ndarray | None

    def dev_column(self, key: int) -> str:
        """The column name of developer field ``key``."""
        ...


class MessageBuilder:
    """Builds the DataFrame of one global message type from its pieces."""

    def __init__(self, decoder: BuildContext, gnum: int, pieces: list[Piece]) -> None:
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
        if self.gnum in SPECIAL or self.gnum == MESG_NUM_HR:  # merge_heart_rates needs hr as dicts
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
    def build(self) -> Built:
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
                        a = native_order(a).astype(dtype)
                        m = p.extra_ts != 0xFFFFFFFF
                        a[m] = p.extra_ts[m]
                    parts.append(a)
        if len(self.pieces) == 1 and parts[0] is not None:
            return native_order(parts[0]) if not bt.is_string else parts[0]
        out = np.full(shape, fill, dtype=dtype)
        for part, rows in zip(parts, self.rows, strict=True):
            if part is None:
                continue
            if rows is None:
                out[...] = part
            else:
                out[rows] = part
        return out

    def _build_vectorised(self, lay: dict[int, set[tuple[int, int]]]) -> Built:
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
            cols[name] = transform_column(fp, raw, bt)
        if self.prof is not None:
            plan = self._component_plan(lay) or []
            self._expand(plan, raws, cols)
        self._dev_columns(cols)
        if self.gnum == MESG_NUM_RECORD and FIELD_NUM_TIMESTAMP in raws:
            raw, _bt = raws[FIELD_NUM_TIMESTAMP]
            self.dec.record_ts = raw
        return Built(self.n, cols=cols)

    def _heterogeneous_column(self, num: int, fp: dict[str, Any] | None) -> Any:
        """A field defined with different base types/sizes by different definitions: per piece."""
        parts: list[tuple[np.ndarray | None, Any]] = []
        for p, rows in zip(self.pieces, self.rows, strict=True):
            idx = next((i for i, f in enumerate(p.d.fields) if f.num == num and f.size), None)
            if idx is None:
                continue
            raw = p.rec[f"f{idx}"]
            bt = BASE_TYPES[p.d.fields[idx].base]
            parts.append((rows, transform_column(fp, raw if bt.is_string else native_order(raw), bt)))
        return combine_parts(parts, self.n)

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
                new = expanded_column(tp, value, ok, True)
                name = tp["name"]
                cols[name] = overlay(cols.get(name), new, present, self.n)
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
        invalid = invalid_mask(raw, inv)
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
        new = expanded_column(tp, value, ok, cscale == 1 and float(coffset).is_integer())
        cols[tp["name"]] = overlay(cols.get(tp["name"]), new, present, self.n)
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
                vals = decode_dev(p.rec[f"d{j}"], fd["base"], p.d.little)
                if vals is None:
                    continue
                pieces_by_col.setdefault(self.dec.dev_column(fd["key"]), []).append((rows, vals))
        for col, parts in pieces_by_col.items():
            cols[col] = combine_parts(parts, self.n)

    # -- emulation path ---------------------------------------------------------------------------
    def _build_emulated(self) -> Built:
        data = self.dec.data
        emu = self.dec.emulation
        ts_extra = self.dec.compressed_ts
        rows_out: list[dict[str, Any]] = []
        raw_list: list[dict[Any, Any]] = []
        keep_raw = self.gnum in (MESG_NUM_HR, MESG_NUM_RECORD)  # needed by merge_heart_rates
        by_pos: dict[int, Piece] = {}
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
                    v = decode_dev_one(data, pos + 1 + dfd.offset, dfd.size, fd["base"], d.little)
                    if v is not None:
                        row[self.dec.dev_column(fd["key"])] = v
            rows_out.append(row)
        return Built(self.n, rows=rows_out, raw=raw_list if keep_raw else None)
