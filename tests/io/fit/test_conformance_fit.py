"""Conformance of the fast FIT engine with the oracles, over EVERY file of ../shared/data/fit.

* Files the official SDK decodes without error: every message type has the same row count and every
  field (native, expanded, sub-field, developer) the same value as
  ``garmin_fit_sdk.Decoder(...).read()`` with default options — numbers within 1e-9 relative,
  strings/enums/timestamps/lists equal, and no value where the SDK has none.
* Files the SDK rejects because of compressed-timestamp headers: same comparison against fitdecode
  (its conventions mapped: ``unknown_<n>`` names, date_time values compared as FIT seconds).
* The broken files listed in the corpus README: exactly the messages fitdecode and fitparse recover
  (counts of every type, and fitdecode's values), plus the expected problems.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from stridelab.io.fit._decoder import INTERNAL_ERROR, read_fit
from stridelab.io.fit._types import FitFile

FIT_EPOCH_S = 631065600
_DATA = Path(
    os.environ.get("STRIDELAB_SHARED_DATA", Path(__file__).resolve().parents[3].parent / "shared" / "data")
)
FIT_DIR = _DATA / "fit"
CORPUS = (
    sorted(p.relative_to(FIT_DIR).as_posix() for p in FIT_DIR.rglob("*") if p.suffix.lower() == ".fit")
    if FIT_DIR.is_dir()
    else []
)

#: files garmin-fit-sdk rejects because it does not support compressed-timestamp headers
COMPRESSED = {
    "dtcooper__python-fitparse/antfs-dump.63.fit",
    "dtcooper__python-fitparse/compressed-speed-distance.fit",
    "Runalyze__Runalyze/FR70-intervals.fit",
}
#: the broken files of the corpus README -> the problem kinds the engine must report
BROKEN: dict[str, set[str]] = {
    "dtcooper__python-fitparse/activity-filecrc.fit": {"file_crc"},
    "dtcooper__python-fitparse/activity-activity-filecrc.fit": {"file_crc"},
    "dtcooper__python-fitparse/activity-unexpected-eof.fit": {"data_size", "truncated"},
    "dtcooper__python-fitparse/nick.fit": {"truncated", "file_crc"},
    "dtcooper__python-fitparse/activity-settings-nodata.fit": {"data_size", "truncated"},
    "dtcooper__python-fitparse/activity-settings-corruptheader.fit": {"bad_header"},
    "dtcooper__python-fitparse/strava-android-app-201.10-b1218918.fit": {
        "data_size",
        "undefined_local_message",
    },
}
#: messages the SDK returns untransformed (raw enum numbers), where fitdecode gives names
RAW_MESSAGES = {"field_description", "developer_data_id"}
#: problems a valid file may carry (a quirk the SDK decodes too)
TOLERATED = {"misaligned_field"}


def _missing(v: Any) -> bool:
    if v is None or v is pd.NaT:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, list | tuple | np.ndarray):
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    return None


def _equal(a: Any, b: Any) -> bool:
    """Oracle value ``a`` vs engine value ``b``."""
    if _missing(a):
        return _missing(b)
    if _missing(b):
        return isinstance(a, float) and math.isnan(a)  # the SDK keeps NaN floats; NaN = missing here
    if isinstance(a, dt.datetime):
        return isinstance(b, dt.datetime) and pd.Timestamp(a) == pd.Timestamp(b)
    na, nb = _as_number(a), _as_number(b)
    if na is not None:
        if nb is None:
            return False
        return na == nb or abs(na - nb) <= 1e-9 * max(abs(na), abs(nb))
    if isinstance(a, list | tuple):
        return (
            isinstance(b, list | tuple | np.ndarray)
            and len(a) == len(b)
            and all(_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    return bool(a == b) and type(a) is type(b)


def _compare_column(name: str, expected: list[Any], actual: pd.Series | None, errors: list[str]) -> None:
    if actual is None:
        bad = [i for i, v in enumerate(expected) if not _missing(v)]
        if bad:
            errors.append(f"{name}: column missing (row {bad[0]}: {expected[bad[0]]!r})")
        return
    present = [v for v in expected if v is not None]
    if present and all(_as_number(v) is not None for v in present) and actual.dtype.kind in "iuf":
        exp = np.array([np.nan if v is None else float(v) for v in expected])
        act = actual.to_numpy(dtype=np.float64, na_value=np.nan)
        ok = (np.isnan(exp) & np.isnan(act)) | np.isclose(exp, act, rtol=1e-9, atol=0.0)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            errors.append(f"{name}: row {i} oracle={expected[i]!r} engine={actual.iloc[i]!r}")
        return
    values = actual.tolist()
    for i, (a, b) in enumerate(zip(expected, values, strict=True)):
        if not _equal(a, b):
            errors.append(f"{name}: row {i} oracle={a!r} engine={b!r}")
            return


def compare_with_sdk(mine: FitFile, sdk: dict[str, list[dict[Any, Any]]]) -> list[str]:
    """Every difference between the engine's FitFile and the SDK's messages (empty = identical)."""
    errors: list[str] = []
    dev_cols = [info.column for info in mine.developer_fields]
    seen: set[str] = set()
    for key, mesgs in sdk.items():
        name = key[: -len("_mesgs")] if key.endswith("_mesgs") else f"mesg_{key}"
        seen.add(name)
        if not mesgs:
            continue
        if name not in mine.messages:
            errors.append(f"{name}: missing ({len(mesgs)} messages)")
            continue
        df = mine.messages[name]
        n = len(mesgs)
        if len(df) != n:
            errors.append(f"{name}: {len(df)} rows, oracle {n}")
            continue
        cols: dict[str, list[Any]] = {}
        for i, m in enumerate(mesgs):
            for k, v in m.items():
                if k == "developer_fields":
                    for dk, dv in v.items():
                        c = dev_cols[dk]
                        if c not in cols:
                            cols[c] = [None] * n
                        cols[c][i] = dv
                    continue
                c = f"field_{k}" if isinstance(k, int) else k
                if c not in cols:
                    cols[c] = [None] * n
                cols[c][i] = v
        for c, expected in cols.items():
            _compare_column(f"{name}.{c}", expected, df[c] if c in df.columns else None, errors)
        for c in df.columns:
            if c not in cols and df[c].notna().any():
                errors.append(f"{name}.{c}: engine has values the oracle has not")
    for name in mine.messages:
        if name not in seen and len(mine.messages[name]):
            errors.append(f"{name}: engine has messages the oracle has not")
    return errors


def _fitdecode_messages(path: Path) -> dict[str, list[dict[str, Any]]]:
    """fitdecode's data messages (until its first error), names mapped to the engine's."""
    import fitdecode

    out: dict[str, list[dict[str, Any]]] = {}
    try:
        with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.DISABLED) as reader:
            for frame in reader:
                if isinstance(frame, fitdecode.FitDataMessage):
                    name = (
                        frame.name.replace("unknown_", "mesg_", 1)
                        if frame.name.startswith("unknown_")
                        else frame.name
                    )
                    row = {}
                    for f in frame.fields:
                        fname = (
                            f.name.replace("unknown_", "field_", 1)
                            if f.name.startswith("unknown_")
                            else f.name
                        )
                        row[fname] = f.value
                    out.setdefault(name, []).append(row)
    except fitdecode.FitError:
        pass
    return out


def _fit_seconds(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        v = v if v.tzinfo is not None else v.replace(tzinfo=dt.UTC)
        return v.timestamp() - FIT_EPOCH_S
    if isinstance(v, tuple):
        return [_fit_seconds(x) for x in v]
    return v


def compare_with_fitdecode(mine: FitFile, fd: dict[str, list[dict[str, Any]]]) -> list[str]:
    errors: list[str] = []
    dev_by_name = {info.name: info.column for info in mine.developer_fields if info.name}
    for name, rows in fd.items():
        if name not in mine.messages:
            errors.append(f"{name}: missing")
            continue
        df = mine.messages[name]
        if len(df) != len(rows):
            errors.append(f"{name}: {len(df)} rows, fitdecode {len(rows)}")
            continue
        mine_rows = df.to_dict("records")
        for i, (a, b) in enumerate(zip(rows, mine_rows, strict=True)):
            for k, v in a.items():
                col = k if k in b else dev_by_name.get(k, k)
                if v is None:
                    continue
                if col not in b:
                    errors.append(f"{name}.{k}: column missing")
                    continue
                if name in RAW_MESSAGES and isinstance(v, str) and isinstance(b[col], int):
                    continue  # the SDK (and so the engine) keeps these raw; fitdecode names them
                if not _equal(_fit_seconds(v), _fit_seconds(b[col])):
                    errors.append(f"{name}.{k}: row {i} fitdecode={v!r} engine={b[col]!r}")
        if len(errors) > 20:
            break
    return errors


def _fitparse_counts(path: Path) -> dict[str, int]:
    import fitparse

    counts: dict[str, int] = {}
    try:
        for m in fitparse.FitFile(str(path), check_crc=False).get_messages():
            counts[m.name] = counts.get(m.name, 0) + 1
    except Exception:  # fitparse raises various errors on the broken files; what it yielded counts
        pass
    return counts


def test_corpus_lists_match_the_readme(shared_data: Path) -> None:
    """The special cases named here exist in the corpus (guards against a renamed file)."""
    names = set(CORPUS)
    assert len(CORPUS) == 140
    assert names >= COMPRESSED
    assert set(BROKEN) <= names


@pytest.mark.parametrize("rel", CORPUS)
def test_engine_matches_oracle(shared_data: Path, rel: str) -> None:
    path = shared_data / "fit" / rel
    data = path.read_bytes()
    mine = read_fit(data)
    for name in mine.messages:  # message types other than record are decoded on first access
        _ = mine.messages[name]
    assert not any(INTERNAL_ERROR in p.message for p in mine.problems)
    if rel in COMPRESSED or rel in BROKEN:
        fd = _fitdecode_messages(path)
        assert fd.get("record"), "fitdecode recovers records from every special file"
        errors = compare_with_fitdecode(mine, fd)
        assert not errors, "\n".join(errors[:20])
        counts = {k: len(v) for k, v in fd.items()}
        assert {k: len(mine.messages[k]) for k in counts} == counts
        if rel in BROKEN:
            fp = _fitparse_counts(path)
            assert fp.get("record") == counts["record"]
            kinds = {p.kind for p in mine.problems}
            assert kinds == BROKEN[rel], mine.problems
            assert all(p.offset >= 0 for p in mine.problems)
        else:
            assert not mine.problems
        return
    from garmin_fit_sdk import Decoder, Stream

    sdk, sdk_errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert not sdk_errors, f"the SDK fails on a file not listed as special: {sdk_errors[0]}"
    errors = compare_with_sdk(mine, sdk)
    assert not errors, "\n".join(errors[:20])
    assert {p.kind for p in mine.problems} <= TOLERATED, mine.problems
