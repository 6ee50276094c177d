"""The speed paths of the FIT engine and of the FIT -> Activity conversion give the same values as the
plain paths they replace: the pairwise-joined numpy CRC against the bytewise CRC of the FIT
specification (hypothesis), the record columns read from the decoded arrays against the same columns
read from the DataFrame, the dtypes shared between files against per-file ones, the store's record
table and summary from the reader's arrays against the frame's columns, and one content hash per
file."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.io.fit import FitReader, activity_from_fit, read_activity, read_fit
from stridelab.io.fit._crc import crc16
from stridelab.io.fit._defs import Def, FieldDef
from stridelab.model import MAX_KEPT_RECORD_BYTES, record_arrays, with_record_arrays
from stridelab.store.activities import activity_summary, records_table

_SPEC_TABLE = [0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
               0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400]  # fmt: skip


def _crc_spec(data: bytes) -> int:
    """The FIT protocol document's nibble-wise CRC (the reference)."""
    crc = 0
    for b in data:
        tmp = _SPEC_TABLE[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _SPEC_TABLE[b & 0xF]
        tmp = _SPEC_TABLE[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _SPEC_TABLE[(b >> 4) & 0xF]
    return crc


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=6000))
def test_crc_equals_the_specification_for_any_bytes(data: bytes) -> None:
    assert crc16(data) == _crc_spec(data)
    assert crc16(memoryview(data)) == _crc_spec(data)


@pytest.mark.parametrize("n", [1023, 1024, 1025, 2047, 2048, 2049, 4096 + 31, 65_537])
def test_crc_at_the_chunk_and_power_of_two_boundaries(n: int) -> None:
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    assert crc16(data) == _crc_spec(data)
    assert crc16(b"\x00" * n) == 0  # leading zeros (the front padding) leave the CRC at 0


FILES = [
    "Runalyze__Runalyze/Suunto-Ambit-3-Peak-without-final-lap.fit",  # hrv, re-sent definitions
    "GoldenCheetah__GoldenCheetah/Fr955v19.28andStryd.fit",  # Stryd developer fields
    "dtcooper__python-fitparse/activity-small-fenix2-run.fit",
    "dtcooper__python-fitparse/compressed-speed-distance.fit",  # compressed timestamps
    "tormoder__fit/mornindew-broken.fit",  # damaged
    "muktihari__fit/activity_multisport.fit",
]


@pytest.mark.parametrize("rel", FILES)
def test_records_from_the_arrays_equal_records_from_the_dataframe(shared_data: Path, rel: str) -> None:
    data = (shared_data / "fit" / rel).read_bytes()
    fast = activity_from_fit(read_fit(data), activity_id="a" * 64, source_path=rel)
    fit = read_fit(data)
    if "record" in fit.messages:
        _ = fit.messages["record"]  # the DataFrame is built first: the columns come from it
    plain = activity_from_fit(fit, activity_id="a" * 64, source_path=rel)
    pd.testing.assert_frame_equal(fast.records, plain.records, check_exact=True)
    assert fast.developer_columns == plain.developer_columns
    assert fast.notes == plain.notes and fast.problems == plain.problems
    assert len(fast.records) > 0


def test_definitions_of_one_layout_share_one_dtype_and_struct() -> None:
    def make(offset: int) -> Def:
        fields = [FieldDef(253, 4, 0x06, 1, 0), FieldDef(3, 1, 0x02, 1, 4)]
        return Def(20, True, fields, [], 6, offset)

    a, b = make(0), make(100)
    assert a.dtype() is b.dtype() and a.fmt() is b.fmt()
    raw = bytes([0]) + (123456).to_bytes(4, "little") + bytes([77])
    row = np.frombuffer(raw, dtype=a.dtype(), count=1)
    assert int(row["f0"][0]) == 123456 and int(row["f1"][0]) == 77
    assert a.fmt().unpack_from(raw, 1) == (123456, 77)
    big = Def(20, False, [FieldDef(253, 4, 0x06, 1, 0)], [], 5, 0)
    assert big.dtype() is not make(0).dtype()  # another byte order is another layout


def _tables_equal(x: pa.Table, y: pa.Table) -> bool:
    """Same schema and values (NaN equal to NaN, which ``Table.equals`` does not grant)."""
    if x.schema != y.schema or x.num_rows != y.num_rows:
        return False
    for name in x.column_names:
        cx, cy = x[name].combine_chunks(), y[name].combine_chunks()
        ax, ay = cx.to_numpy(zero_copy_only=False), cy.to_numpy(zero_copy_only=False)
        if cx.null_count != cy.null_count or ax.dtype != ay.dtype:
            return False
        if ax.dtype.kind == "M":
            ax, ay = ax.view("int64"), ay.view("int64")
        if not np.array_equal(ax, ay, equal_nan=ax.dtype.kind == "f"):
            return False
    return True


@pytest.mark.parametrize("rel", FILES)
def test_the_store_writes_the_readers_arrays_as_the_frame_holds_them(shared_data: Path, rel: str) -> None:
    """The record table and the catalog summary built from the arrays the reader kept
    (``model.with_record_arrays``) equal those built from the frame's columns (a copy of the frame
    is not registered, so it takes the frame path)."""
    data = (shared_data / "fit" / rel).read_bytes()
    activity = activity_from_fit(read_fit(data), activity_id="a" * 64, source_path=rel)
    assert record_arrays(activity.records) is not None
    plain = dataclasses.replace(activity, records=activity.records.copy())
    assert record_arrays(plain.records) is None
    assert _tables_equal(records_table(activity.records), records_table(plain.records))
    assert repr(activity_summary(activity)) == repr(activity_summary(plain))
    # a frame given another index or columns afterwards is not matched any more
    moved = activity.records
    moved.index = moved.index + pd.Timedelta(seconds=1)
    assert record_arrays(moved) is None


def test_a_given_content_hash_is_taken_and_a_compressed_files_hash_is_not_trusted(shared_data: Path) -> None:
    data = (shared_data / "fit" / FILES[2]).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    reader = FitReader(read_activity)
    assert reader.content_id and reader.read(data, name="x", sha256=sha).id == sha
    assert reader.read(data, name="x").id == sha
    # the digest of gzip bytes is not the id (that is the hash of the FIT bytes inside)
    assert reader.read(gzip.compress(data), name="x", sha256="f" * 64).id == sha
    with pytest.raises(TypeError):
        reader.read(data, name="x", other=1)


def test_only_small_plain_numeric_arrays_are_kept_beside_a_frame() -> None:
    index = pd.date_range("2024-01-01", periods=3, freq="s", tz="UTC", name="time")
    small = {"speed_m_s": np.array([1.0, np.nan, 2.0]), "paused": np.zeros(3, dtype=bool)}
    frame = with_record_arrays(pd.DataFrame(small, index=index), small)
    assert record_arrays(frame) is not None and list(record_arrays(frame) or {}) == list(small)
    text = {"speed_m_s": np.array(["a", "b", "c"], dtype=object)}
    assert record_arrays(with_record_arrays(pd.DataFrame(text, index=index), text)) is None
    n = MAX_KEPT_RECORD_BYTES // 8 + 1  # one float column over the limit: memory first
    big = {"speed_m_s": np.zeros(n)}
    big_index = pd.date_range("2024-01-01", periods=n, freq="s", tz="UTC", name="time")
    assert record_arrays(with_record_arrays(pd.DataFrame(big, index=big_index), big)) is None
