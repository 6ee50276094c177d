"""The message-at-a-time path of the fast engine: a port of the official SDK's message processing.

Message types whose profile features do not vectorise cleanly (sub-fields, fields expanded from
several sources: ``event``, ``device_info``, ``lap``, ``hr``...) and types with few rows (where
columns cost more than messages) are decoded here by :class:`SdkEmulation`, a port of
``garmin_fit_sdk.Decoder``'s logic (default options), so they are exact by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from stridelab.io.fit._defs import FIT_EPOCH_S, SPECIAL, Def, convert_string
from stridelab.io.fit._profile import (
    BASE_TYPES,
    FIELD_NUM_TIMESTAMP,
    FIELD_TYPE_TO_BASE_TYPE,
    NUMERIC_FIELD_TYPES,
    message_profile,
    type_values,
)

__all__ = ["Accumulator", "SdkEmulation", "sanitize"]


class Accumulator:
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


def _to_datetime(raw: Any) -> Any:
    return datetime.fromtimestamp((raw if raw else 0) + FIT_EPOCH_S, UTC)


def sanitize(v: Any) -> Any:
    return v[0] if isinstance(v, list) and len(v) == 1 else v


_Plan = tuple[dict[int, dict[str, Any]], dict[int, tuple[Any, Any, int, Callable[[Any], Any]]]]
_TRANSFORMERS: dict[tuple[int, Any], Callable[[Any], Any]] = {}
_PLANS: dict[int, _Plan] = {}
_TF_BY_NAME: dict[int, dict[Any, Callable[[Any], Any]]] = {}


def _def_plan(d: Def, plan: dict[int, tuple[Any, Any, int, Callable[[Any], Any]]]) -> list[tuple[Any, ...]]:
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


class SdkEmulation:
    """Port of ``garmin_fit_sdk.Decoder`` message processing (default options), one message at a time."""

    def __init__(self, accumulator: Accumulator) -> None:
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

    def message_at(self, d: Def, data: bytes, pos: int, ts: int | None) -> dict[Any, Any]:
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
                v = convert_string(vals[i])
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
        if gnum in SPECIAL:
            return {k: sanitize(v) for k, v in message.items()}
        subs: dict[Any, dict[str, Any]] = {}  # sub-field name -> its profile
        if with_sub:
            self._expand_sub_fields(pfields, message, fdn, subs, with_sub, to_expand)
        expanded: dict[Any, Any] = {}
        if to_expand:
            self._expand_components(gnum, pfields, message, fdn, subs, to_expand, expanded)
        # every name left is a profile field's name (its transform) or an unknown field's number
        tfn = _TF_BY_NAME.get(gnum)
        if tfn is None:
            tfn = _TF_BY_NAME[gnum] = {entry[0]: entry[3] for entry in plan.values()}
        if not subs and not expanded:  # the common case: every value through its field's transform
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
                tf = tfn.get(name, _identity)
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
            expanded[tname] = sanitize(values)
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
        return _scale_offset(scale, offset)
    if table is not None:
        return _to_string(table)
    return _identity


def _scale_offset(scale: Any, offset: Any) -> Callable[[Any], Any]:
    """The SDK's scale/offset of one field (a single scale): ``raw / scale - offset``, per element of a
    list (None stays None), a value it cannot scale returned as it is; scale and offset bound once
    per field, not looked up in the profile per value."""
    if scale != 1:

        def scaled(raw: Any) -> Any:
            if raw is None:
                return raw
            try:
                if isinstance(raw, list):
                    return [None if v is None else v / scale - offset for v in raw]
                return raw / scale - offset
            except TypeError:
                return raw

        return scaled

    def offset_only(raw: Any) -> Any:
        if raw is None:
            return raw
        try:
            if isinstance(raw, list):
                return [None if v is None else v - offset for v in raw]
            return raw - offset
        except TypeError:
            return raw

    return offset_only


def _to_string(table: dict[int, str]) -> Callable[[Any], Any]:
    """:func:`_convert_type_to_string` of one field, its type's table bound once (same values)."""

    def to_name(raw: Any) -> Any:
        try:
            if isinstance(raw, list):
                return [table.get(v, v) for v in raw]
            return table.get(raw, raw)
        except TypeError:
            return raw

    return to_name
