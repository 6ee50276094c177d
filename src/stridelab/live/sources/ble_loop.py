"""The Bluetooth LE source loop: a ``bleak`` client (or any object with its async interface) → Batches.

Connects to one address, starts the Polar PMD accelerometer stream (Polar BLE SDK, "Polar Measurement
Data specification": enable notifications on the PMD control point ``fb005c81-…`` and data ``fb005c82-…``
characteristics, then write the start-measurement request ``02 02`` (op code start, type ACC) followed
by the settings ``00 01 <rate uint16>`` (sample rate), ``01 01 10 00`` (16-bit resolution) and
``02 01 <range uint16>`` (range in G)), and subscribes to RSC Measurement (0x2A53) and Heart Rate
Measurement (0x2A37) when the device has them. Every PMD frame becomes a :class:`Batch` of the
``chest`` sensor on the sensor-clock grid; RSC/HR readings are kept as ``latest`` (speed, footpod
cadence, stride length, heart rate) and added to each update.

A dropped connection is retried with exponential backoff; the frames after it continue the grid on
the sensor clock, so the hole becomes a marked gap, and the first batch after it carries a note
("reconnected after N s").
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Protocol

from stridelab.live.sources.base import Batch, SensorInfo, empty_samples
from stridelab.live.sources.ble import (
    HEART_RATE_MEASUREMENT_UUID,
    PMD_DATA_UUID,
    RSC_MEASUREMENT_UUID,
    BleFrameError,
    parse_heart_rate_measurement,
    parse_pmd_acc,
    parse_rsc_measurement,
)

__all__ = ["PMD_CONTROL_UUID", "BleClient", "BleSource", "pmd_start_acc"]

PMD_CONTROL_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"


class BleClient(Protocol):
    """The part of ``bleak.BleakClient`` the loop uses (the hardware boundary)."""

    @property
    def is_connected(self) -> bool: ...

    async def connect(self) -> Any: ...

    async def disconnect(self) -> Any: ...

    async def start_notify(self, char: str, callback: Callable[[Any, bytearray], None]) -> None: ...

    async def write_gatt_char(self, char: str, data: bytes, response: bool = ...) -> None: ...


#: (address, disconnected_callback) → client
ClientFactory = Callable[[str, Callable[[Any], None]], BleClient]


def pmd_start_acc(rate_hz: int = 200, range_g: int = 8) -> bytes:
    """The PMD control-point request that starts the accelerometer: op 0x02 (start), type 0x02 (ACC),
    sample rate (setting 0x00), resolution 16 bits (0x01), range in G (0x02); each setting is
    ``type, count=1, uint16 little endian``."""
    return bytes([0x02, 0x02]) + b"".join(
        struct.pack("<BBH", kind, 1, value) for kind, value in ((0, rate_hz), (1, 16), (2, range_g))
    )


def _bleak_factory(address: str, on_disconnect: Callable[[Any], None]) -> BleClient:  # pragma: no cover
    import importlib

    try:
        bleak = importlib.import_module("bleak")
    except ImportError as exc:
        raise RuntimeError(
            "Bluetooth needs the optional extra: pip install 'stridelab[live]' (bleak)"
        ) from exc
    client: BleClient = bleak.BleakClient(address, disconnected_callback=on_disconnect)
    return client


class BleSource:
    """A live source from one Bluetooth LE device (Polar H10/Verity Sense ACC, RSC footpod, HR strap).

    ``client_factory`` makes the client (default: ``bleak.BleakClient``); ``backoff_s`` are the waits
    before the 1st, 2nd, … reconnection attempt (the last repeats); after ``max_attempts`` failed
    attempts in a row the stream ends with a note. ``placement`` is how the detector treats the
    trunk-worn accelerometer (default ``sacrum``: the trunk detector).
    """

    def __init__(
        self,
        address: str,
        *,
        rate_hz: int = 200,
        range_g: int = 8,
        placement: str = "sacrum",
        client_factory: ClientFactory | None = None,
        backoff_s: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0),
        max_attempts: int = 10,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not address:
            raise ValueError("--source ble:ADDRESS needs the device address")
        self.address = address
        self.rate_hz = rate_hz
        self.range_g = range_g
        self.placement = placement
        self._factory = client_factory or _bleak_factory
        self.backoff_s = backoff_s or (1.0,)
        self.max_attempts = max_attempts
        self._clock = clock
        self._q: queue.Queue[Batch | str | None] = queue.Queue()
        self._closed = threading.Event()
        self._t0_ns: int | None = None
        self._pending_notes: list[str] = []
        self.latest: dict[str, float | None] = {}
        self.notes: list[str] = []
        self.connections = 0

    def sensors(self) -> tuple[SensorInfo, ...]:
        return (SensorInfo("chest", self.placement, None, float(self.rate_hz)),)

    def close(self) -> None:
        self._closed.set()

    # -- notification handlers (pure apart from the queue) -------------------------------------------
    def _on_pmd(self, _sender: Any, data: bytearray) -> None:
        try:
            frame = parse_pmd_acc(bytes(data))
        except BleFrameError as exc:
            self._q.put(f"PMD frame dropped: {exc}")
            return
        n = frame.acc_m_s2.shape[0]
        dt_ns = 1e9 / self.rate_hz
        if self._t0_ns is None:
            self._t0_ns = int(frame.timestamp_ns - (n - 1) * dt_ns)
        last = round((frame.timestamp_ns - self._t0_ns) / dt_ns)
        first = last - (n - 1)
        samples = frame.acc_m_s2
        if first < 0:  # a frame from before the stream's start (clock reset): keep what lies after it
            samples = samples[-first:]
            first = 0
        self._q.put(Batch("chest", first, samples, self._clock()))

    def _on_rsc(self, _sender: Any, data: bytearray) -> None:
        try:
            m = parse_rsc_measurement(bytes(data))
        except BleFrameError as exc:
            self._q.put(f"RSC frame dropped: {exc}")
            return
        self.latest.update(
            speed_m_s=m.speed_m_s,
            footpod_cadence_spm=m.cadence_per_min,  # RSC cadence is steps per minute
            stride_length_m=m.stride_length_m,
            running=float(m.running),
        )

    def _on_hr(self, _sender: Any, data: bytearray) -> None:
        try:
            m = parse_heart_rate_measurement(bytes(data))
        except BleFrameError as exc:
            self._q.put(f"heart-rate frame dropped: {exc}")
            return
        self.latest["heart_rate_bpm"] = float(m.heart_rate_bpm)

    # -- the connection loop ------------------------------------------------------------------------
    async def _session(self, client: BleClient, lost: asyncio.Event, lost_at: float | None) -> None:
        await client.connect()
        self.connections += 1
        if lost_at is not None:
            self._q.put(f"reconnected to {self.address} after {self._clock() - lost_at:.1f} s")
        await client.start_notify(PMD_CONTROL_UUID, lambda _s, _d: None)
        await client.start_notify(PMD_DATA_UUID, self._on_pmd)
        await client.write_gatt_char(
            PMD_CONTROL_UUID, pmd_start_acc(self.rate_hz, self.range_g), response=True
        )
        for uuid, cb in ((RSC_MEASUREMENT_UUID, self._on_rsc), (HEART_RATE_MEASUREMENT_UUID, self._on_hr)):
            try:
                await client.start_notify(uuid, cb)
            except Exception:
                continue
        while not lost.is_set() and not self._closed.is_set():
            await asyncio.sleep(0.02)

    async def _run(self) -> None:
        failures = 0
        lost_at: float | None = None
        loop = asyncio.get_running_loop()
        while not self._closed.is_set():
            lost = asyncio.Event()

            def on_disconnect(_client: Any, lost: asyncio.Event = lost) -> None:
                loop.call_soon_threadsafe(lost.set)

            client = self._factory(self.address, on_disconnect)
            try:
                await self._session(client, lost, lost_at)
            except Exception as exc:
                failures += 1
                self._q.put(f"connection to {self.address} failed ({type(exc).__name__}: {exc})")
            else:
                failures = 0
            finally:
                if client.is_connected:
                    with contextlib.suppress(Exception):  # already gone
                        await client.disconnect()
            if self._closed.is_set():
                break
            if failures == 0:  # it ran, then the link dropped
                lost_at = self._clock()
                self._q.put(f"connection to {self.address} lost; reconnecting")
            elif lost_at is None:
                lost_at = self._clock()
            if failures >= self.max_attempts:
                self._q.put(f"gave up after {failures} failed attempts to connect to {self.address}")
                break
            await asyncio.sleep(self.backoff_s[min(failures, len(self.backoff_s) - 1)])

    def _thread(self) -> None:
        try:
            asyncio.run(self._run())
        except Exception as exc:
            self._q.put(f"Bluetooth loop stopped: {exc}")
        finally:
            self._q.put(None)

    def batches(self) -> Iterator[Batch]:
        worker = threading.Thread(target=self._thread, name="stridelab-ble", daemon=True)
        worker.start()
        next_index = 0
        try:
            while True:
                item = self._q.get()
                if item is None:
                    if self._pending_notes:  # notes after the last frame ride on an empty batch
                        yield Batch(
                            "chest", next_index, empty_samples(3), self._clock(), tuple(self._pending_notes)
                        )
                        self._pending_notes = []
                    return
                if isinstance(item, str):  # a note rides on the next batch
                    self.notes.append(item)
                    self._pending_notes.append(item)
                    continue
                if self._pending_notes:
                    item = replace(item, notes=(*self._pending_notes, *item.notes))
                    self._pending_notes = []
                next_index = max(next_index, item.first_index + item.n)
                yield item
        finally:
            self._closed.set()
            worker.join(timeout=5.0)
