"""Column transforms of the fast engine's vectorised path: raw numpy arrays to SDK-equal columns.

Every field is transformed column-wise as the SDK transforms values (default options): scale and
offset, enum names, UTC timestamps, invalid sentinels as missing, developer field bytes as values.
Column dtypes follow what pandas infers for the SDK's values (as the SDK adapter does): integers
without gaps ``int64``, numbers with gaps ``float64`` (NaN = missing), date_time fields
``datetime64[us, UTC]``, enums/strings/arrays ``object`` (arrays are lists, ``None`` for invalid
elements). Developer field values are kept as the SDK returns them (no invalid filtering).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pandas as pd

from stridelab.io.fit._defs import FIT_EPOCH_S, STRUCT_CODES, convert_string
from stridelab.io.fit._profile import BASE_TYPES, NUMERIC_FIELD_TYPES, BaseType, type_values

__all__ = [
    "combine_parts",
    "decode_dev",
    "decode_dev_one",
    "expanded_column",
    "invalid_mask",
    "native_order",
    "overlay",
    "transform_column",
]


def native_order(a: np.ndarray) -> np.ndarray:
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


def invalid_mask(raw: np.ndarray, inv: int | None) -> np.ndarray | None:
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
        out: np.ndarray = look[raw]
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


def _fits_int64(values: np.ndarray) -> bool:
    """True when float ``values`` are all finite and exactly representable as int64."""
    return bool(len(values) == 0 or (np.isfinite(values).all() and np.abs(values).max() < 2.0**53))


def combine_parts(parts: list[tuple[np.ndarray | None, Any]], n: int) -> Any:
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


def decode_dev(raw: np.ndarray, base: int, little: bool) -> np.ndarray | None:
    """Developer field bytes (n, size) -> values as the SDK gives them (no invalid filtering)."""
    bt = BASE_TYPES[base]
    n, size = raw.shape
    if bt.is_string:
        return _object_from([convert_string(bytes(r)) for r in raw.tolist()])
    k = size // bt.size
    if k == 0:
        return None
    b = np.ascontiguousarray(raw[:, : k * bt.size])
    vals = b.view(("<" if little else ">") + bt.np_code).reshape(n, k)
    vals = native_order(vals)
    if k == 1:
        return vals[:, 0]
    return _object_from(vals.tolist())


def decode_dev_one(data: bytes, off: int, size: int, base: int, little: bool) -> Any:
    bt = BASE_TYPES[base]
    if bt.is_string:
        return convert_string(data[off : off + size])
    k = size // bt.size
    if k == 0:
        return None
    vals = struct.unpack_from(("<" if little else ">") + f"{k}{STRUCT_CODES[bt.np_code]}", data, off)
    return list(vals) if k > 1 else vals[0]


def transform_column(fp: dict[str, Any] | None, raw: np.ndarray, bt: BaseType) -> Any:
    """One native field column, SDK default options (types to strings, scale/offset, datetimes)."""
    if bt.is_string:
        return _object_from([convert_string(b) for b in raw.tolist()])
    if raw.ndim == 2:
        return _array_column(fp, raw, bt)
    invalid = invalid_mask(raw, bt.invalid)
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


def expanded_column(tp: dict[str, Any], value: np.ndarray, ok: np.ndarray, maybe_int: bool) -> Any:
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


def overlay(native: Any, new: Any, rows: np.ndarray, n: int) -> Any:
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
