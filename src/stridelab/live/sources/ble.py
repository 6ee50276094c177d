"""Bluetooth LE: pure byte parsers and a ``bleak`` adapter (imported lazily: ``pip install stridelab[live]``).

Parsers (SI out, no I/O), each after its published specification:

* :func:`parse_rsc_measurement` -- Running Speed and Cadence service, RSC Measurement characteristic
  0x2A53 (Bluetooth SIG, RSCS 1.0 / GATT Specification Supplement): flags (bit 0 stride length
  present, bit 1 total distance present, bit 2 running), speed uint16 in 1/256 m/s, cadence uint8
  in 1/min, stride length uint16 in 1/100 m, total distance uint32 in 1/10 m; little endian.
* :func:`parse_heart_rate_measurement` -- Heart Rate Measurement 0x2A37 (HRS 1.0): flags (bit 0 uint16
  value, bits 1–2 sensor contact, bit 3 energy expended present, bit 4 RR intervals present), heart rate,
  energy expended uint16 kJ, RR intervals uint16 in 1/1024 s.
* :func:`parse_pmd_acc` -- Polar PMD measurement data (Polar BLE SDK, "Polar Measurement Data
  specification"): byte 0 measurement type (2 = ACC), bytes 1–8 sensor timestamp uint64 ns (of the
  frame's LAST sample), byte 9 frame type; uncompressed frame types 0/1/2 carry int8/int16/int24 x, y, z
  samples in mG; a frame type with bit 7 set is delta-compressed: a first int16 x, y, z sample, then
  blocks of (delta bit width uint8, sample count uint8, packed signed deltas, LSB first).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from stridelab.units import G

__all__ = [
    "BleFrameError",
    "HeartRateMeasurement",
    "PmdAccFrame",
    "RscMeasurement",
    "parse_heart_rate_measurement",
    "parse_pmd_acc",
    "parse_rsc_measurement",
]

RSC_MEASUREMENT_UUID = "00002a53-0000-1000-8000-00805f9b34fb"
HEART_RATE_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"


class BleFrameError(ValueError):
    """A frame shorter than its flags announce, or of an unknown type (the reason is in the message)."""


@dataclass(frozen=True, slots=True)
class RscMeasurement:
    speed_m_s: float
    cadence_per_min: float
    stride_length_m: float | None
    total_distance_m: float | None
    running: bool


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    heart_rate_bpm: int
    sensor_contact: bool | None  # None: contact detection not supported
    energy_expended_j: float | None
    rr_intervals_s: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PmdAccFrame:
    timestamp_ns: int
    acc_m_s2: npt.NDArray[np.float64]  # (n, 3)


def _need(data: bytes, n: int, what: str) -> None:
    if len(data) < n:
        raise BleFrameError(f"{what}: frame of {len(data)} bytes, at least {n} expected ({data.hex()})")


def parse_rsc_measurement(data: bytes) -> RscMeasurement:
    """Parse an RSC Measurement (0x2A53) notification."""
    _need(data, 4, "RSC measurement")
    flags = data[0]
    speed, cadence = struct.unpack_from("<HB", data, 1)
    pos = 4
    stride = distance = None
    if flags & 0x01:
        _need(data, pos + 2, "RSC measurement (stride length)")
        stride = struct.unpack_from("<H", data, pos)[0] / 100.0
        pos += 2
    if flags & 0x02:
        _need(data, pos + 4, "RSC measurement (total distance)")
        distance = struct.unpack_from("<I", data, pos)[0] / 10.0
    return RscMeasurement(speed / 256.0, float(cadence), stride, distance, bool(flags & 0x04))


def parse_heart_rate_measurement(data: bytes) -> HeartRateMeasurement:
    """Parse a Heart Rate Measurement (0x2A37) notification."""
    _need(data, 2, "heart rate measurement")
    flags = data[0]
    pos = 1
    if flags & 0x01:
        _need(data, 3, "heart rate measurement (uint16)")
        hr = struct.unpack_from("<H", data, 1)[0]
        pos = 3
    else:
        hr = data[1]
        pos = 2
    contact = bool(flags & 0x02) if flags & 0x04 else None
    energy = None
    if flags & 0x08:
        _need(data, pos + 2, "heart rate measurement (energy expended)")
        energy = struct.unpack_from("<H", data, pos)[0] * 1000.0
        pos += 2
    rr: list[float] = []
    if flags & 0x10:
        if (len(data) - pos) % 2:
            raise BleFrameError(f"heart rate measurement: odd number of RR bytes ({data.hex()})")
        rr = [v / 1024.0 for v in struct.unpack_from(f"<{(len(data) - pos) // 2}H", data, pos)]
    return HeartRateMeasurement(int(hr), contact, energy, tuple(rr))


def _bits(payload: bytes) -> Iterator[int]:
    for byte in payload:
        for k in range(8):
            yield (byte >> k) & 1


def parse_pmd_acc(data: bytes) -> PmdAccFrame:
    """Parse a Polar PMD accelerometer data frame; samples in m/s² (mG × g / 1000)."""
    _need(data, 10, "PMD frame")
    if data[0] != 0x02:
        raise BleFrameError(f"PMD frame of measurement type {data[0]}, not 2 (ACC)")
    ts = struct.unpack_from("<Q", data, 1)[0]
    ftype = data[9]
    body = data[10:]
    if ftype & 0x80:
        rsize = {0: 1, 1: 2, 2: 3}.get(ftype & 0x7F)
        if rsize is None:
            raise BleFrameError(f"PMD ACC delta frame type {ftype & 0x7F} is not known")
        _need(body, 3 * rsize, "PMD delta frame (reference sample)")
        ref = np.array(
            [int.from_bytes(body[i : i + rsize], "little", signed=True) for i in range(0, 3 * rsize, rsize)],
            dtype=np.int64,
        )
        samples = [ref.copy()]
        pos = 3 * rsize
        while pos < len(body):
            _need(body, pos + 2, "PMD delta frame (block header)")
            width, count = body[pos], body[pos + 1]
            pos += 2
            if not 1 <= width <= 32:
                raise BleFrameError(f"PMD delta frame: delta width {width} bits")
            nbytes = (width * 3 * count + 7) // 8
            _need(body, pos + nbytes, "PMD delta frame (deltas)")
            bits = _bits(body[pos : pos + nbytes])
            pos += nbytes
            for _ in range(count):
                delta = []
                for _axis in range(3):
                    v = sum(next(bits) << k for k in range(width))
                    if v & (1 << (width - 1)):
                        v -= 1 << width
                    delta.append(v)
                ref = ref + np.array(delta, dtype=np.int64)
                samples.append(ref.copy())
        arr = np.array(samples, dtype=float)
    else:
        size = {0: 1, 1: 2, 2: 3}.get(ftype)
        if size is None:
            raise BleFrameError(f"PMD ACC frame type {ftype} is not known")
        if len(body) % (3 * size):
            raise BleFrameError(f"PMD ACC frame: {len(body)} sample bytes is not a multiple of {3 * size}")
        vals = [int.from_bytes(body[i : i + size], "little", signed=True) for i in range(0, len(body), size)]
        arr = np.array(vals, dtype=float).reshape(-1, 3)
    return PmdAccFrame(int(ts), arr * G / 1000.0)


def connect_bleak(address: str) -> object:  # pragma: no cover - needs hardware
    """A ``bleak`` client for ``address`` (raises a clear error when the optional extra is missing)."""
    import importlib

    try:
        bleak = importlib.import_module("bleak")
    except ImportError as exc:
        raise RuntimeError(
            "Bluetooth needs the optional extra: pip install 'stridelab[live]' (bleak)"
        ) from exc
    return bleak.BleakClient(address)
