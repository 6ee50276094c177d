"""BLE parsers on frames built from the published specifications (SIG RSC 0x2A53, HR 0x2A37, Polar PMD)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.live.sources.ble import (
    BleFrameError,
    parse_heart_rate_measurement,
    parse_pmd_acc,
    parse_rsc_measurement,
)
from stridelab.units import G


@settings(max_examples=80, derandomize=True)
@given(
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFF),
    st.one_of(st.none(), st.integers(0, 0xFFFF)),
    st.one_of(st.none(), st.integers(0, 0xFFFFFFFF)),
    st.booleans(),
)
def test_rsc_measurement_round_trip(speed, cadence, stride, distance, running):
    flags = (stride is not None) | (distance is not None) << 1 | running << 2
    frame = struct.pack("<BHB", flags, speed, cadence)
    if stride is not None:
        frame += struct.pack("<H", stride)
    if distance is not None:
        frame += struct.pack("<I", distance)
    m = parse_rsc_measurement(frame)
    assert m.speed_m_s == speed / 256
    assert m.cadence_per_min == cadence
    assert m.stride_length_m == (None if stride is None else stride / 100)
    assert m.total_distance_m == (None if distance is None else distance / 10)
    assert m.running is running


def test_rsc_example_frame():
    # running, stride length present: 3.5 m/s (896/256), 88 /min, 1.20 m
    m = parse_rsc_measurement(bytes([0x05, 0x80, 0x03, 88, 120, 0]))
    assert (m.speed_m_s, m.cadence_per_min, m.stride_length_m, m.running) == (3.5, 88.0, 1.2, True)
    with pytest.raises(BleFrameError, match="stride length"):
        parse_rsc_measurement(bytes([0x01, 0x80, 0x03, 88]))


@settings(max_examples=80, derandomize=True)
@given(
    st.integers(0, 0xFFFF),
    st.booleans(),
    st.sampled_from([None, True, False]),
    st.one_of(st.none(), st.integers(0, 0xFFFF)),
    st.lists(st.integers(0, 0xFFFF), max_size=8),
)
def test_heart_rate_round_trip(hr, wide, contact, energy, rr):
    if not wide:
        hr %= 256
    flags = int(wide) | (0 if contact is None else 0x04 | (0x02 if contact else 0))
    flags |= (energy is not None) << 3 | bool(rr) << 4
    frame = bytes([flags]) + (struct.pack("<H", hr) if wide else bytes([hr]))
    if energy is not None:
        frame += struct.pack("<H", energy)
    frame += b"".join(struct.pack("<H", r) for r in rr)
    m = parse_heart_rate_measurement(frame)
    assert m.heart_rate_bpm == hr
    assert m.sensor_contact == contact
    assert m.energy_expended_j == (None if energy is None else energy * 1000.0)
    assert m.rr_intervals_s == tuple(r / 1024 for r in rr)


def _pmd_header(ftype: int, ts: int = 123_456_789) -> bytes:
    return bytes([0x02]) + struct.pack("<Q", ts) + bytes([ftype])


def test_pmd_uncompressed_int16_frame():
    samples = [(-12, 1000, 3), (5, -990, 20)]
    frame = _pmd_header(0x01) + b"".join(struct.pack("<3h", *s) for s in samples)
    f = parse_pmd_acc(frame)
    assert f.timestamp_ns == 123_456_789
    np.testing.assert_allclose(f.acc_m_s2, np.array(samples) * G / 1000)


def _pack_deltas(deltas: list[tuple[int, int, int]], width: int) -> bytes:
    bits = []
    for d in deltas:
        for v in d:
            u = v & ((1 << width) - 1)
            bits += [(u >> k) & 1 for k in range(width)]
    bits += [0] * (-len(bits) % 8)
    return bytes(sum(b << k for k, b in enumerate(bits[i : i + 8])) for i in range(0, len(bits), 8))


@settings(max_examples=50, derandomize=True)
@given(
    st.tuples(*[st.integers(-2000, 2000)] * 3),
    st.lists(st.tuples(*[st.integers(-7, 7)] * 3), min_size=1, max_size=10),
    st.lists(st.tuples(*[st.integers(-100, 100)] * 3), max_size=5),
)
def test_pmd_delta_frame(ref, small, large):
    frame = _pmd_header(0x81) + struct.pack("<3h", *ref)
    frame += bytes([4, len(small)]) + _pack_deltas(small, 4)
    if large:
        frame += bytes([8, len(large)]) + _pack_deltas(large, 8)
    want = [np.array(ref)]
    for d in [*small, *large]:
        want.append(want[-1] + np.array(d))
    got = parse_pmd_acc(frame).acc_m_s2
    np.testing.assert_allclose(got, np.array(want) * G / 1000)


def test_bad_pmd_frames_say_why():
    with pytest.raises(BleFrameError, match="measurement type"):
        parse_pmd_acc(bytes([0x00]) + bytes(9))
    with pytest.raises(BleFrameError, match="not a multiple"):
        parse_pmd_acc(_pmd_header(0x01) + bytes(5))
    with pytest.raises(BleFrameError, match="deltas"):
        parse_pmd_acc(_pmd_header(0x81) + bytes(6) + bytes([8, 10]) + bytes(3))
