"""The phone source: Sensor Logger push batches (the app's documented schema) over real HTTP on
127.0.0.1, resampled, repaired with notes, journaled, and measured live."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from _hang import HANG_GUARD_S
from stridelab.live import LiveSession, read_journal
from stridelab.live.sources.phone import PayloadError, PhoneSource, SensorLoggerStream, phone_app
from stridelab.sim.imu import ImuTruth, simulate_imu

T0_NS = 1_763_700_000_000_000_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _payloads(data: np.ndarray, fs: float, batch_s: float = 1.0, seed: int = 0, rate_factor: int = 1):
    """Sensor Logger HTTP push bodies: messageId, sessionId, deviceId, payload of named samples
    (epoch ns ``time``, ``values`` x/y/z), each sensor on its own jittery clock."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(data)) / fs
    per = int(batch_s * fs)
    out = []
    for m, a in enumerate(range(0, len(data), per)):
        entries = []
        for name, cols in (("totalacceleration", slice(0, 3)), ("gyroscope", slice(3, 6))):
            idx = np.arange(a, min(a + per, len(data)))
            tt = t[idx] + rng.uniform(-0.002, 0.002, len(idx))
            vals = data[idx, cols]
            if rate_factor > 1:
                tt = np.linspace(tt[0], tt[-1], len(idx) * rate_factor)
                vals = np.column_stack([np.interp(tt, t[idx], data[idx, cols][:, j]) for j in range(3)])
            for ti, v in zip(tt, vals, strict=True):
                entries.append(
                    {"name": name, "time": int(T0_NS + ti * 1e9), "values": {"x": v[0], "y": v[1], "z": v[2]}}
                )
        entries.append({"name": "location", "time": T0_NS, "values": {"latitude": 0.0}})
        out.append({"messageId": m, "sessionId": "run-1", "deviceId": "phone-1", "payload": entries})
    return out


@pytest.fixture(scope="module")
def sacrum():
    sim = simulate_imu(ImuTruth(duration_s=24, placements=("sacrum",), sampling_rate_hz=100.0), seed=5)
    return sim.recording.sensors[0].data.to_numpy(float), sim


def test_stream_resamples_and_repairs_with_notes(sacrum):
    data, _ = sacrum
    s = SensorLoggerStream(sampling_rate_hz=100.0)
    bodies = _payloads(data[:600], 100.0)
    rows = sum(b.n for body in bodies[:3] for b in s.feed(body, 0.0))
    assert 290 <= rows <= 300
    assert s.feed(bodies[2], 0.0) == [] and "received twice" in s.notes[-1]
    # out of order inside a batch and samples already seen: sorted / dropped, noted
    late = dict(bodies[3], messageId=99)
    late["payload"] = list(reversed(late["payload"])) + bodies[1]["payload"][:5]
    out = s.feed(late, 0.0)
    assert any("out-of-order" in n for b in out for n in b.notes)
    # a 10x sender: resampled to the declared rate, noted
    fast = _payloads(data[400:500], 100.0, rate_factor=10)[0]
    fast["messageId"] = 100
    for e in fast["payload"]:
        e["time"] += int(4e9)
    out = s.feed(fast, 0.0)
    assert any("declared 100 Hz" in n for b in out for n in b.notes)
    # malformed batches are refused with the reason; the stream goes on
    for bad, why in (([], "JSON object"), ({"messageId": 1}, "payload")):
        with pytest.raises(PayloadError, match=why):
            s.feed(bad, 0.0)
    grid = [b.first_index for b in s.feed(dict(bodies[5], messageId=101), 0.0)]
    assert grid and grid[0] >= rows


def test_clock_jump_is_a_marked_gap(sacrum):
    data, _ = sacrum
    s = SensorLoggerStream(sampling_rate_hz=100.0)
    bodies = _payloads(data[:400], 100.0)
    n = sum(b.n for b in s.feed(bodies[0], 0.0))
    for e in bodies[1]["payload"]:
        e["time"] += int(3600e9)  # the phone's clock jumps an hour ahead
    out = s.feed(bodies[1], 0.0)
    assert out[0].first_index == n
    assert np.isnan(out[0].samples[:50]).all()
    assert any("clock jumped" in x for x in out[0].notes)


def test_lan_binding_needs_a_token():
    with pytest.raises(ValueError, match="needs a token"):
        phone_app(lambda body: {}, token=None, host="0.0.0.0")


def test_real_http_push_live_metrics_and_journal(sacrum, tmp_path: Path):
    data, sim = sacrum
    port = _free_port()
    src = PhoneSource(
        host="127.0.0.1", port=port, token="s3cret", sampling_rate_hz=100.0, idle_timeout_s=None
    )
    session = LiveSession(src, tmp_path / "phone.jsonl", window_s=20.0, source_label="phone")
    items: list[dict] = []
    runner = threading.Thread(target=lambda: items.extend(session.run()), daemon=True)
    runner.start()
    deadline = time.monotonic() + HANG_GUARD_S
    while src._server is None or not src._server.started:
        assert time.monotonic() < deadline, "the phone endpoint did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}/live/phone"
    with httpx.Client(timeout=HANG_GUARD_S) as client:
        assert client.post(url, json=_payloads(data[:100], 100.0)[0]).status_code == 401
        assert client.post(url + "?token=wrong", json={}).status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        r = client.post(url, content=b"{not json", headers=auth)
        assert r.status_code == 400 and "not JSON" in r.json()["error"]
        assert client.post(url, json={"payload": 5}, headers=auth).status_code == 400
        for body in _payloads(data, 100.0):
            r = client.post(url, json=body, headers=auth)
            assert r.status_code == 200, r.text
    src.close()
    runner.join(HANG_GUARD_S)
    updates = [i for i in items if i["type"] == "update"]
    assert len(updates) >= 15
    last = updates[-1]
    assert last["cadence_spm"] == pytest.approx(sim.truth.cadence_spm, rel=0.03)
    assert all(u["latency_s"] >= 0 for u in updates)
    journal = read_journal(tmp_path / "phone.jsonl")
    assert journal.ended
    assert journal.data["phone"].shape[1] == 6
    assert len(journal.data["phone"]) >= len(data) - 200
