"""The Bluetooth LE source loop, driven by a fake client with bleak's async interface (the radio is the
hardware boundary): PMD start request, frames from Polar's PMD layout, RSC/HR readings, a dropped
link reconnected with backoff and the gap marked, all through the real LiveSession and journal."""

from __future__ import annotations

import asyncio
import struct

import numpy as np

from stridelab.live import LiveSession, read_journal
from stridelab.live.sources.ble import HEART_RATE_MEASUREMENT_UUID, PMD_DATA_UUID, RSC_MEASUREMENT_UUID
from stridelab.live.sources.ble_loop import PMD_CONTROL_UUID, BleSource, pmd_start_acc
from stridelab.sim.imu import ImuTruth, simulate_imu
from stridelab.units import G

FS = 200
PER_FRAME = 40  # samples per PMD frame (0.2 s)
T0_NS = 5_000_000_000


def _pmd_frames(acc_m_s2: np.ndarray) -> list[bytes]:
    """PMD ACC data frames, type 1 (int16 mG), timestamp = the last sample's sensor time (ns)."""
    mg = np.round(acc_m_s2 / G * 1000.0).astype(np.int16)
    out = []
    for a in range(0, len(mg) - PER_FRAME + 1, PER_FRAME):
        ts = T0_NS + round((a + PER_FRAME - 1) * 1e9 / FS)
        out.append(bytes([0x02]) + struct.pack("<Q", ts) + bytes([0x01]) + mg[a : a + PER_FRAME].tobytes())
    return out


class FakeBleak:
    """bleak.BleakClient's async interface over a scripted device: plays ``frames[start:stop]``."""

    def __init__(self, device: FakeDevice, on_disconnect) -> None:
        self.device, self.on_disconnect = device, on_disconnect
        self.is_connected = False
        self.notify: dict[str, object] = {}

    async def connect(self) -> bool:
        plan = self.device.plan.pop(0)
        if plan is None:
            raise OSError("device not found")
        self.range = plan
        self.is_connected = True
        return True

    async def disconnect(self) -> bool:
        self.is_connected = False
        return True

    async def start_notify(self, char: str, callback) -> None:
        if char not in self.device.chars:
            raise KeyError(char)
        self.notify[char] = callback

    async def write_gatt_char(self, char: str, data: bytes, response: bool = False) -> None:
        self.device.writes.append((char, bytes(data)))
        asyncio.get_running_loop().create_task(self._play())

    async def _play(self) -> None:
        start, stop = self.range
        for k in range(start, stop):
            self.notify[PMD_DATA_UUID](None, bytearray(self.device.frames[k]))
            if k % 5 == 0:
                self.notify[RSC_MEASUREMENT_UUID](None, bytearray(struct.pack("<BHBH", 0x05, 896, 170, 125)))
                self.notify[HEART_RATE_MEASUREMENT_UUID](None, bytearray([0x00, 150]))
            await asyncio.sleep(0)
        if stop < len(self.device.frames):  # the link drops
            self.is_connected = False
            self.on_disconnect(self)
        else:
            self.device.source.close()  # the run is over


class FakeDevice:
    def __init__(self, frames, plan) -> None:
        self.frames, self.plan = frames, plan
        self.writes: list[tuple[str, bytes]] = []
        self.chars = {PMD_CONTROL_UUID, PMD_DATA_UUID, RSC_MEASUREMENT_UUID, HEART_RATE_MEASUREMENT_UUID}
        self.source: BleSource


def test_pmd_start_request_layout():
    # op 0x02 start, type 0x02 ACC; sample rate 200 Hz, resolution 16 bit, range 8 G (Polar PMD spec)
    assert pmd_start_acc(200, 8).hex(" ") == "02 02 00 01 c8 00 01 01 10 00 02 01 08 00"


def test_ble_loop_reconnects_and_marks_the_gap(tmp_path):
    truth = ImuTruth(duration_s=30, placements=("sacrum",), sampling_rate_hz=float(FS), cadence_spm=172.0)
    sim = simulate_imu(truth, seed=3)
    acc = sim.recording.sensors[0].data[["acc_x", "acc_y", "acc_z"]].to_numpy(float)
    frames = _pmd_frames(acc)
    n = len(frames)
    # connect, play 0..60; link drops; one failed attempt; reconnect and resume 5 frames (1 s) later
    device = FakeDevice(frames, [(0, 60), None, (65, n)])
    src = BleSource(
        "AA:BB:CC:DD:EE:FF",
        client_factory=lambda addr, cb: FakeBleak(device, cb),
        backoff_s=(0.0,),
        max_attempts=3,
    )
    device.source = src
    journal = tmp_path / "ble.jsonl"
    items = list(LiveSession(src, journal, window_s=10.0, interval_s=1.0, source_label="ble:test").run())

    assert device.writes == [(PMD_CONTROL_UUID, pmd_start_acc(200, 8))] * 2
    assert src.connections == 2
    notes = [i["text"] for i in items if i["type"] == "note"]
    assert any("lost; reconnecting" in t for t in notes)
    assert any("failed (OSError: device not found)" in t for t in notes)
    assert any("reconnected to AA:BB:CC:DD:EE:FF" in t for t in notes)
    assert any("gap of 1.00 s" in t for t in notes)
    updates = [i for i in items if i["type"] == "update" and i["cadence_spm"] is not None]
    assert updates
    assert abs(updates[-1]["cadence_spm"] - 172.0) / 172.0 < 0.03
    assert updates[-1]["speed_m_s"] == 3.5 and updates[-1]["heart_rate_bpm"] == 150.0
    assert updates[-1]["stride_length_m"] == 1.25
    j = read_journal(journal)
    rec = j.recording(gap_free=False, path=str(journal))
    chest = rec.sensors[0].data
    assert len(chest) == n * PER_FRAME  # every sample of every frame, the missed second as NaN rows
    assert int(chest["acc_x"].isna().sum()) == 5 * PER_FRAME
    np.testing.assert_allclose(chest["acc_x"].to_numpy()[:PER_FRAME], acc[:PER_FRAME, 0], atol=G / 1000)


def test_ble_loop_gives_up_and_bad_frames_are_notes(tmp_path):
    device = FakeDevice([b"\x02\x00"], [None, None])
    src = BleSource("X", client_factory=lambda a, cb: FakeBleak(device, cb), backoff_s=(0.0,), max_attempts=2)
    src._on_pmd(None, bytearray(b"\x02\x00"))  # a torn PMD frame
    src._on_rsc(None, bytearray(b"\x01"))
    items = list(LiveSession(src, tmp_path / "b.jsonl", source_label="ble:X").run())
    notes = [i["text"] for i in items if i["type"] == "note"]
    assert any("PMD frame dropped" in t for t in notes)
    assert any("RSC frame dropped" in t for t in notes)
    assert any("gave up after 2 failed attempts" in t for t in notes)
