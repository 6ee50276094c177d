"""Unit tests of the fast FIT engine on small FIT files built here with known content.

Where the official SDK can decode a built file, its values are the expected ones; the other cases
(damage, compressed timestamps) have hand-computed expectations.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from stridelab.io.fit._decoder import INTERNAL_ERROR, read_fit
from stridelab.io.fit._frames import LazyFrames
from stridelab.io.fit._types import FitDecodeError

FIT_EPOCH_S = 631065600
T0 = 1_000_000_000  # FIT seconds: 2021-09-08T01:46:40Z

UINT8, SINT8, UINT16, SINT32, UINT32, STRING, BYTE, ENUM = 0x02, 0x01, 0x84, 0x85, 0x86, 0x07, 0x0D, 0x00
_CODES = {UINT8: "B", SINT8: "b", UINT16: "H", SINT32: "i", UINT32: "I", BYTE: "B", ENUM: "B"}


def crc16(data: bytes) -> int:
    table = [0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
             0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400]  # fmt: skip
    crc = 0
    for b in data:
        tmp = table[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[b & 0xF]
        tmp = table[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[(b >> 4) & 0xF]
    return crc


def fit_file(
    body: bytes, *, header_size: int = 14, header_crc: int | None = None, data_size: int | None = None
) -> bytes:
    size = len(body) if data_size is None else data_size
    head = struct.pack("<BBHI4s", header_size, 0x20, 2140, size, b".FIT")
    if header_size == 14:
        head += struct.pack("<H", crc16(head) if header_crc is None else header_crc)
    out = head + body
    return out + struct.pack("<H", crc16(out))


def definition(
    local: int,
    gnum: int,
    fields: list[tuple[int, int, int]],
    *,
    big: bool = False,
    dev: list[tuple[int, int, int]] | None = None,
) -> bytes:
    header = 0x40 | local | (0x20 if dev else 0)
    out = struct.pack(">BBBHB" if big else "<BBBHB", header, 0, 1 if big else 0, gnum, len(fields))
    for num, size, base in fields:
        out += bytes([num, size, base])
    if dev:
        out += bytes([len(dev)])
        for fdn, size, idx in dev:
            out += bytes([fdn, size, idx])
    return out


def data(local: int, fields: list[tuple[int, Any]], *, big: bool = False) -> bytes:
    """A data message; fields as (base type, value), a bytes value is written as is."""
    out = bytes([local])
    for base, value in fields:
        out += value if isinstance(value, bytes) else struct.pack((">" if big else "<") + _CODES[base], value)
    return out


RECORD_FIELDS = [(253, 4, UINT32), (3, 1, UINT8), (6, 2, UINT16), (2, 2, UINT16), (5, 4, UINT32)]


def record(local: int, ts: int, hr: int, speed: int, alt: int, dist: int, *, big: bool = False) -> bytes:
    return data(local, [(UINT32, ts), (UINT8, hr), (UINT16, speed), (UINT16, alt), (UINT32, dist)], big=big)


def file_id() -> bytes:
    # file_id: type (0, enum) = activity (4), manufacturer (1, uint16) = garmin (1), product (2) = 3121
    return definition(0, 0, [(0, 1, ENUM), (1, 2, UINT16), (2, 2, UINT16)]) + data(
        0, [(ENUM, 4), (UINT16, 1), (UINT16, 3121)]
    )


def simple_activity(
    n: int = 20, *, big: bool = False, header_size: int = 14, header_crc: int | None = None
) -> bytes:
    body = file_id() + definition(1, 20, RECORD_FIELDS, big=big)
    for i in range(n):
        hr = 0xFF if i == 3 else 120 + i % 100
        body += record(1, T0 + i, hr, 3000 + 10 * i, 2600 + i, 300 * i, big=big)
    return fit_file(body, header_size=header_size, header_crc=header_crc)


def sdk_messages(blob: bytes) -> dict[str, list[dict[Any, Any]]]:
    from garmin_fit_sdk import Decoder, Stream

    messages, errors = Decoder(Stream.from_byte_array(bytearray(blob))).read()
    assert not errors
    return messages


# --------------------------------------------------------------------------------------------------
def test_record_values_equal_the_sdk() -> None:
    blob = simple_activity()
    fit = read_fit(blob)
    rec = fit.messages["record"]
    sdk = sdk_messages(blob)["record_mesgs"]
    assert len(rec) == len(sdk) == 20
    assert fit.problems == []
    for col in ("heart_rate", "speed", "enhanced_speed", "altitude", "enhanced_altitude", "distance"):
        expected = [m.get(col, np.nan) for m in sdk]
        np.testing.assert_allclose(
            rec[col].to_numpy(dtype=float), np.array(expected, dtype=float), rtol=1e-12
        )
    assert rec["speed"].iloc[1] == pytest.approx(3.01)  # scale 1000
    assert rec["altitude"].iloc[0] == pytest.approx(2600 / 5 - 500)  # scale 5, offset 500
    assert np.isnan(rec["heart_rate"].iloc[3])  # the 0xFF sentinel is missing
    ts = rec["timestamp"]
    assert str(ts.dt.tz) == "UTC"
    assert ts.iloc[0] == pd.Timestamp(T0 + FIT_EPOCH_S, unit="s", tz="UTC")
    assert list(ts) == [m["timestamp"] for m in sdk]
    fid = fit.messages["file_id"]
    assert fid["type"].iloc[0] == "activity"
    assert fid["manufacturer"].iloc[0] == "garmin"
    assert fid["garmin_product"].iloc[0] == sdk_messages(blob)["file_id_mesgs"][0]["garmin_product"]


def test_sources_path_bytes_and_file_object(tmp_path: Path) -> None:
    blob = simple_activity(5)
    path = tmp_path / "a.fit"
    path.write_bytes(blob)
    for src in (path, str(path), blob, bytearray(blob), io.BytesIO(blob)):
        assert len(read_fit(src).messages["record"]) == 5  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Invalid value for the 'source' parameter"):
        read_fit(12)  # type: ignore[arg-type]
    with path.open() as text, pytest.raises(TypeError, match="opened in binary mode"):
        read_fit(text)  # type: ignore[arg-type]


def test_headers_12_and_14_bytes_and_header_crc_zero() -> None:
    for blob in (simple_activity(4, header_size=12), simple_activity(4, header_crc=0), simple_activity(4)):
        fit = read_fit(blob, strict=True)
        assert len(fit.messages["record"]) == 4
        assert fit.problems == []


def test_wrong_header_crc_is_a_problem_and_strict_raises() -> None:
    blob = simple_activity(4, header_crc=0x1234)
    fit = read_fit(blob)
    assert [p.kind for p in fit.problems] == ["header_crc"]
    assert len(fit.messages["record"]) == 4
    with pytest.raises(FitDecodeError, match="header_crc") as exc:
        read_fit(blob, strict=True)
    assert exc.value.offset == 0


def test_big_endian_definitions_decode_like_little_endian() -> None:
    little = read_fit(simple_activity(10)).messages["record"]
    big = read_fit(simple_activity(10, big=True)).messages["record"]
    pd.testing.assert_frame_equal(little, big)


def test_file_crc_mismatch_keeps_messages() -> None:
    blob = bytearray(simple_activity(6))
    blob[-1] ^= 0xFF
    fit = read_fit(bytes(blob))
    assert [p.kind for p in fit.problems] == ["file_crc"]
    assert fit.problems[0].offset == len(blob) - 2
    assert len(fit.messages["record"]) == 6
    with pytest.raises(FitDecodeError, match="file_crc"):
        read_fit(bytes(blob), strict=True)


@pytest.mark.parametrize("cut", [1, 5, 13, 17])
def test_truncated_file_keeps_complete_messages(cut: int) -> None:
    blob = simple_activity(10)
    size = 1 + 4 + 1 + 2 + 2 + 4  # one record message
    fit = read_fit(blob[: len(blob) - 2 - cut])
    n_complete = 10 - (cut + size - 1) // size
    assert len(fit.messages["record"]) == n_complete
    kinds = [p.kind for p in fit.problems]
    assert "data_size" in kinds and "truncated" in kinds
    trunc = next(p for p in fit.problems if p.kind == "truncated")
    assert trunc.offset == len(blob) - 2 - (10 - n_complete) * size
    with pytest.raises(FitDecodeError) as exc:
        read_fit(blob[: len(blob) - 2 - cut], strict=True)
    assert exc.value.offset is not None


def test_chained_sequences_are_all_decoded() -> None:
    blob = simple_activity(3) + simple_activity(4, header_size=12)
    fit = read_fit(blob)
    assert fit.problems == []
    assert len(fit.messages["record"]) == 7
    assert len(fit.messages["file_id"]) == 2
    sdk = sdk_messages(blob)
    assert len(sdk["record_mesgs"]) == 7


def test_undefined_local_message_then_next_sequence_is_found() -> None:
    bad = fit_file(
        file_id()
        + definition(1, 20, RECORD_FIELDS)
        + record(1, T0, 100, 1, 2600, 0)
        + bytes([0x05])
        + bytes(12)
    )
    blob = bad + simple_activity(3)
    fit = read_fit(blob)
    kinds = [p.kind for p in fit.problems]
    assert kinds == ["undefined_local_message"]
    offset = fit.problems[0].offset
    assert blob[offset] == 0x05
    assert len(fit.messages["record"]) == 1 + 3
    with pytest.raises(FitDecodeError, match="undefined_local_message") as exc:
        read_fit(blob, strict=True)
    assert exc.value.offset == offset


def test_garbage_and_empty_input_never_raise() -> None:
    for blob in (b"", b"\x00" * 5, b"not a fit file at all" * 10, bytes(range(256))):
        fit = read_fit(blob)
        assert fit.problems and fit.problems[0].kind == "bad_header"
        assert "empty" in fit.problems[0].message or "not a FIT file" in fit.problems[0].message
        assert dict(fit.messages) == {}
        with pytest.raises(FitDecodeError):
            read_fit(blob, strict=True)


def test_compressed_timestamp_headers() -> None:
    # one record with a full timestamp, then compressed-header records (local 2) carrying heart rate
    body = file_id() + definition(1, 20, [(253, 4, UINT32), (3, 1, UINT8)])
    body += data(1, [(UINT32, T0 + 30), (UINT8, 100)])  # T0+30: low 5 bits = 30 (T0 % 32 == 0)
    body += definition(2, 20, [(3, 1, UINT8)])
    offsets = [31, 2, 5, 5, 9]  # rolls over 32 once
    for i, off in enumerate(offsets):
        body += bytes([0x80 | (2 << 5) | off, 101 + i])
    fit = read_fit(fit_file(body))
    rec = fit.messages["record"]
    assert T0 % 32 == 0
    secs = (rec["timestamp"] - pd.Timestamp(FIT_EPOCH_S, unit="s", tz="UTC")).dt.total_seconds().astype(int)
    assert list(secs) == [T0 + 30, T0 + 31, T0 + 34, T0 + 37, T0 + 37, T0 + 41]
    assert list(rec["heart_rate"]) == [100, 101, 102, 103, 104, 105]


def test_components_and_accumulation_equal_the_sdk() -> None:
    # record.compressed_speed_distance: 12 bits speed (1/100 m/s) + 12 bits distance (1/16 m, accumulated)
    body = definition(0, 20, [(253, 4, UINT32), (8, 3, BYTE), (18, 1, UINT8)])
    dist = 0
    for i in range(40):
        dist = (dist + 1000) & 0xFFF  # wraps every few messages
        speed = 250 + i
        packed = speed | (dist << 12)
        cycles = (i * 100) & 0xFF  # record.cycles -> total_cycles (accumulated, 8 bits)
        body += data(0, [(UINT32, T0 + i), (BYTE, packed.to_bytes(3, "little")), (UINT8, cycles)])
    blob = fit_file(body)
    rec = read_fit(blob).messages["record"]
    sdk = sdk_messages(blob)["record_mesgs"]
    for col in ("speed", "enhanced_speed", "distance", "cycles", "total_cycles"):
        np.testing.assert_allclose(rec[col].to_numpy(dtype=float), [m[col] for m in sdk], rtol=1e-12)
    assert rec["distance"].is_monotonic_increasing
    assert rec["distance"].iloc[-1] == pytest.approx(40 * 1000 / 16)
    assert rec["total_cycles"].iloc[-1] == 39 * 100
    assert list(rec["compressed_speed_distance"].iloc[0]) == sdk[0]["compressed_speed_distance"]


def _dev_body(names: list[tuple[int, str]]) -> bytes:
    """developer_data_id + field_description messages for (developer index, field name) pairs."""
    body = b""
    for idx in sorted({i for i, _ in names}):
        body += definition(3, 207, [(1, 16, BYTE), (3, 1, UINT8)])
        body += data(3, [(BYTE, bytes(range(idx, idx + 16))), (UINT8, idx)])
    # field_description: developer_data_index(0), field_definition_number(1), fit_base_type_id(2),
    # field_name(3, string), units(8, string)
    body += definition(4, 206, [(0, 1, UINT8), (1, 1, UINT8), (2, 1, UINT8), (3, 16, STRING), (8, 8, STRING)])
    for fdn, (idx, name) in enumerate(names):
        body += data(
            4,
            [(UINT8, idx), (UINT8, fdn), (UINT8, UINT16), (STRING, name.encode().ljust(16, b"\0")),
             (STRING, b"watts\0\0\0")],
        )  # fmt: skip
    return body


def test_developer_fields_two_apps_same_name() -> None:
    body = file_id() + _dev_body([(0, "Power"), (1, "Power")])
    body += definition(1, 20, [(253, 4, UINT32)], dev=[(0, 2, 0), (1, 2, 1)])
    for i in range(12):
        body += data(1, [(UINT32, T0 + i), (UINT16, 200 + i), (UINT16, 300 + i)])
    blob = fit_file(body)
    fit = read_fit(blob)
    infos = fit.developer_fields
    assert [(i.developer_data_index, i.field_definition_number, i.name, i.units) for i in infos] == [
        (0, 0, "Power", "watts"),
        (1, 1, "Power", "watts"),
    ]
    assert infos[0].column != infos[1].column
    assert infos[0].application_id == bytes(range(16)).hex()
    rec = fit.messages["record"]
    assert list(rec[infos[0].column]) == [200 + i for i in range(12)]
    assert list(rec[infos[1].column]) == [300 + i for i in range(12)]
    sdk = sdk_messages(blob)["record_mesgs"]
    assert next(m["developer_fields"] for m in sdk) == {0: 200, 1: 300}
    from stridelab.io.fit._sdk import decode_with_sdk

    assert [i.column for i in decode_with_sdk(blob).developer_fields] == [i.column for i in infos]


def test_developer_field_before_its_description_is_not_decoded() -> None:
    body = definition(1, 20, [(253, 4, UINT32)], dev=[(0, 2, 0)])
    body += data(1, [(UINT32, T0), (UINT16, 7)])
    body += _dev_body([(0, "Power")])
    body += data(1, [(UINT32, T0 + 1), (UINT16, 8)])
    blob = fit_file(body)
    fit = read_fit(blob)
    col = fit.developer_fields[0].column
    values = fit.messages["record"][col].tolist()
    assert np.isnan(values[0]) and values[1] == 8
    assert [m.get("developer_fields") for m in sdk_messages(blob)["record_mesgs"]] == [None, {0: 8}]


def test_strings_with_and_without_nul_and_misaligned_fields() -> None:
    # device_info.product_name (27, string); a uint16 field of size 3 (misaligned, read as 3 x uint8)
    body = definition(0, 23, [(27, 6, STRING), (4, 3, UINT16)])
    body += data(0, [(STRING, b"abc\0\0\0"), (BYTE, b"\x01\x02\xff")])
    body += data(0, [(STRING, b"abcdef"), (BYTE, b"\xff\xff\xff")])
    blob = fit_file(body)
    fit = read_fit(blob, strict=True)  # misaligned fields are tolerated, even when strict
    assert [p.kind for p in fit.problems] == ["misaligned_field"]
    dev = fit.messages["device_info"]
    sdk = sdk_messages(blob)["device_info_mesgs"]
    assert list(dev["product_name"]) == [m["product_name"] for m in sdk] == ["abc", "abcdef"]
    assert dev["product"].iloc[0] == sdk[0]["product"] == [1, 2, None]
    assert pd.isna(dev["product"].iloc[1]) and "product" not in sdk[1]


def test_sub_fields_on_many_rows_agree_with_the_sdk() -> None:
    # event.data has sub-fields chosen by event (timer trigger / gear change data with components)
    body = definition(0, 21, [(253, 4, UINT32), (0, 1, ENUM), (1, 1, ENUM), (3, 4, UINT32)])
    for i in range(50):
        event, etype = (0, 0) if i % 2 else (42, 3)  # timer start / gear change marker
        body += data(0, [(UINT32, T0 + i), (ENUM, event), (ENUM, etype), (UINT32, 0x01020304 + i)])
    blob = fit_file(body)
    ev = read_fit(blob).messages["event"]
    sdk = sdk_messages(blob)["event_mesgs"]
    for col in {k for m in sdk for k in m}:
        assert ev[col].tolist() == [m.get(col) for m in sdk] or all(
            (pd.isna(a) and b is None) or a == b
            for a, b in zip(ev[col].tolist(), [m.get(col) for m in sdk], strict=True)
        ), col


def test_lazy_frames_mapping() -> None:
    fit = read_fit(simple_activity(3))
    msgs = fit.messages
    assert isinstance(msgs, LazyFrames)
    assert set(msgs) == {"file_id", "record"} and len(msgs) == 2
    assert "record" in msgs and "lap" not in msgs
    assert msgs["record"] is msgs["record"]  # built once
    msgs["extra"] = pd.DataFrame({"a": [1]})
    assert list(msgs["extra"]["a"]) == [1]
    del msgs["extra"]
    assert "extra" not in msgs
    assert fit.get("lap").empty
    assert not any(INTERNAL_ERROR in p.message for p in fit.problems)


def test_vectorised_and_message_by_message_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    import stridelab.io.fit._builder as builder

    blob = simple_activity(30)
    fast = read_fit(blob).messages["record"]
    monkeypatch.setattr(builder, "_SMALL", 10_000)  # every message type decoded message by message
    slow = read_fit(blob).messages["record"]
    assert sorted(fast.columns) == sorted(slow.columns)
    for col in fast.columns:
        a, b = fast[col], slow[col]
        if a.dtype.kind in "iuf":
            np.testing.assert_allclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), rtol=1e-12)
        else:
            assert a.tolist() == b.tolist(), col


def test_definitions_resent_before_every_message_and_local_reuse() -> None:
    # like some Suunto files: record and event definitions alternate on local type 0
    event_def = definition(0, 21, [(253, 4, UINT32), (0, 1, ENUM), (1, 1, ENUM)])
    body = b""
    for i in range(30):
        body += definition(0, 20, RECORD_FIELDS) + record(0, T0 + i, 100 + i, 2000 + i, 2600, 100 * i)
        body += event_def + data(0, [(UINT32, T0 + i), (ENUM, 0), (ENUM, 0 if i % 2 else 4)])
    blob = fit_file(body)
    fit = read_fit(blob, strict=True)
    sdk = sdk_messages(blob)
    rec, ev = fit.messages["record"], fit.messages["event"]
    assert len(rec) == len(sdk["record_mesgs"]) == 30 and len(ev) == len(sdk["event_mesgs"]) == 30
    assert list(rec["heart_rate"]) == [m["heart_rate"] for m in sdk["record_mesgs"]]
    assert list(ev["event_type"]) == [m["event_type"] for m in sdk["event_mesgs"]]


def test_runs_of_one_definition_end_exactly_at_the_data_end() -> None:
    blob = simple_activity(700)  # one long run of identical record headers
    rec = read_fit(blob, strict=True).messages["record"]
    assert len(rec) == 700
    assert rec["distance"].iloc[-1] == pytest.approx(699 * 3.0)
    cut = read_fit(blob[: len(blob) - 2 - 5])  # the last record loses 5 bytes
    assert len(cut.messages["record"]) == 699
    assert [p.kind for p in cut.problems] == ["data_size", "truncated"]


def test_data_headers_with_reserved_bits_set() -> None:
    # bits 4-5 of a normal data header are reserved; the SDK ignores them, so do we
    body = file_id() + definition(1, 20, RECORD_FIELDS)
    for i in range(6):
        msg = record(1, T0 + i, 120 + i, 3000, 2600, 300 * i)
        body += bytes([msg[0] | (0x10 if i % 2 else 0x20)]) + msg[1:] if i % 3 else msg
    blob = fit_file(body)
    rec = read_fit(blob, strict=True).messages["record"]
    assert list(rec["heart_rate"]) == [120 + i for i in range(6)]
    assert list(rec["heart_rate"]) == [m["heart_rate"] for m in sdk_messages(blob)["record_mesgs"]]


def test_hr_messages_are_merged_into_records_like_the_sdk() -> None:
    # hr (132): timestamp(253), fractional_timestamp(0, uint16, 1/32768 s), filtered_bpm(6, uint8[]),
    # event_timestamp(9, uint32[], 1/1024 s); records without their own heart rate
    body = file_id() + definition(1, 20, [(253, 4, UINT32), (5, 4, UINT32)])
    body += definition(2, 132, [(253, 4, UINT32), (0, 2, UINT16), (6, 1, UINT8), (9, 4, UINT32)])
    body += definition(3, 132, [(6, 4, UINT8), (9, 16, UINT32)])
    body += data(2, [(UINT32, T0), (UINT16, 0), (UINT8, 90), (UINT32, 1024 * 5)])
    beat = 5 * 1024
    for k in range(6):
        bpms = [100 + 4 * k + j for j in range(4)]
        stamps = [beat + 300 * (j + 1) for j in range(4)]
        beat = stamps[-1]
        body += data(3, [(BYTE, bytes(bpms)), *[(UINT32, t) for t in stamps]])
    for i in range(1, 31):  # > _SMALL records: the vectorised record path
        body += data(1, [(UINT32, T0 + i), (UINT32, 100 * i)])
    blob = fit_file(body)
    fit = read_fit(blob)
    sdk = sdk_messages(blob)
    expected = [m.get("heart_rate") for m in sdk["record_mesgs"]]
    assert any(v is not None for v in expected)
    got = fit.messages["record"]["heart_rate"].tolist()
    assert [None if pd.isna(v) else v for v in got] == expected
    assert len(fit.messages["hr"]) == 7


def test_activity_from_a_file_whose_timestamp_field_turns_into_an_array() -> None:
    """A corrupt redefinition (timestamp 8 bytes wide: an array of two) must not crash the conversion
    to an Activity (found by fuzzing ``read_activity``): the records with a real time are kept, the
    others are dropped with a note; a file with no time at all has "nothing to import"."""
    from stridelab.io.fit import read_activity

    body = file_id() + definition(1, 20, RECORD_FIELDS)
    for i in range(5):
        body += record(1, T0 + i, 120, 3000, 2600, 300 * i)
    body += definition(1, 20, [(253, 8, UINT32), (3, 1, UINT8)])
    for i in range(3):
        body += data(1, [(BYTE, struct.pack("<II", T0 + 10 + i, 7)), (UINT8, 130)])
    activity = read_activity(fit_file(body))
    assert len(activity.records) == 5
    assert activity.problems == () and activity.notes == ("3 record(s) without a timestamp were dropped",)
    only_corrupt = file_id() + definition(1, 20, [(253, 8, UINT32), (3, 1, UINT8)])
    only_corrupt += data(1, [(BYTE, struct.pack("<II", T0, 7)), (UINT8, 130)])
    with pytest.raises(FitDecodeError, match="nothing to import"):
        read_activity(fit_file(only_corrupt))
