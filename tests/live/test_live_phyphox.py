"""phyphox's remote-access API polled over real HTTP on 127.0.0.1: a small server answers /config and
/get in the format documented on the phyphox wiki ("Remote-interface communication") from a recorded
(simulated) sacrum run, revealing more samples on each poll as the phone would."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from stridelab.live import LiveSession, read_journal
from stridelab.live.sources.phyphox import PhyphoxError, PhyphoxSource, get_query
from stridelab.sim.imu import ImuTruth, simulate_imu

FS = 100.0


class Phone:
    """The recorded experiment: buffers acc_time, accX..Z, gyr_time, gyrX..Z (experiment time in s)."""

    def __init__(self, data: np.ndarray, *, with_acc: bool = True, step_s: float = 0.5) -> None:
        rng = np.random.default_rng(2)
        t = np.arange(len(data)) / FS + rng.uniform(-0.001, 0.001, len(data))
        self.buffers = {"acc_time": t, "gyr_time": t}
        for k, ax in enumerate("XYZ"):
            self.buffers[f"acc{ax}"] = data[:, k]
            self.buffers[f"gyr{ax}"] = data[:, 3 + k]
        if not with_acc:
            self.buffers = {k: v for k, v in self.buffers.items() if k.startswith("gyr")}
        self.now_s = 0.0  # experiment time reached on the phone
        self.step_s = step_s
        self.end_s = float(t[-1])
        self.gets: list[dict[str, str]] = []

    def config(self) -> dict:
        return {
            "crc32": "0a1b2c3d",
            "title": "Acceleration (with g)",
            "localTitle": "Acceleration (with g)",
            "category": "Raw Sensors",
            "buffers": [{"name": n, "size": 0} for n in self.buffers],
            "inputs": [{"source": "accelerometer", "outputs": [{"x": "accX"}, {"y": "accY"}, {"z": "accZ"}]}],
            "export": [],
        }

    def get(self, query: dict[str, str]) -> dict:
        self.gets.append(query)
        self.now_s = min(self.now_s + self.step_s, self.end_s + 1.0)
        visible = self.buffers["acc_time"] <= self.now_s if "acc_time" in self.buffers else None
        out = {}
        for name, spec in query.items():
            values = self.buffers[name]
            keep = visible.copy()
            if spec != "full":
                thr, _, ref = spec.partition("|")
                keep &= self.buffers[ref or name] > float(thr)
            out[name] = {"size": 0, "updateMode": "partial", "buffer": values[keep].tolist()}
        measuring = self.now_s <= self.end_s
        return {
            "buffer": out,
            "status": {"session": "5f3a", "measuring": measuring, "timedRun": False, "countDown": 0},
        }


def _serve(phone: Phone):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            u = urllib.parse.urlsplit(self.path)
            if u.path == "/config":
                body = phone.config()
            elif u.path == "/get":
                body = phone.get(dict(urllib.parse.parse_qsl(u.query)))
            else:
                self.send_error(404)
                return
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def sacrum():
    truth = ImuTruth(duration_s=24, placements=("sacrum",), sampling_rate_hz=FS, cadence_spm=168.0)
    return simulate_imu(truth, seed=7).recording.sensors[0].data.to_numpy(float)


def test_get_query_is_incremental():
    assert get_query("acc_time", ("accX",), None) == {"accX": "full", "acc_time": "full"}
    assert get_query("acc_time", ("accX",), 1.5) == {"accX": "1.5|acc_time", "acc_time": "1.5"}


def test_phyphox_polled_over_http(tmp_path, sacrum):
    phone = Phone(sacrum)
    server = _serve(phone)
    try:
        src = PhyphoxSource(
            f"http://127.0.0.1:{server.server_port}", sampling_rate_hz=FS, sleep=lambda s: None
        )
        journal = tmp_path / "phyphox.jsonl"
        items = list(LiveSession(src, journal, window_s=10.0, source_label="phyphox").run())
    finally:
        server.shutdown()
        server.server_close()
    assert src.requests[0] == "/config"
    assert phone.gets[0]["accX"] == "full"
    acc_gets = [q for q in phone.gets if "accX" in q]
    assert len(acc_gets) > 10 and all(q["accX"].endswith("|acc_time") for q in acc_gets[1:])  # incremental
    assert any("gyrX" in q for q in phone.gets)
    updates = [i for i in items if i["type"] == "update" and i["cadence_spm"] is not None]
    assert abs(updates[-1]["cadence_spm"] - 168.0) / 168.0 < 0.03
    rec = read_journal(journal).recording(gap_free=False, path=str(journal))
    data = rec.sensors[0].data
    assert abs(len(data) - len(sacrum)) <= 2  # each sample fetched once: no duplicates, none lost
    assert list(data.columns[:6]) == ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    assert int(data["acc_x"].isna().sum()) == 0


def test_phyphox_without_accelerometer_is_a_clear_error(sacrum):
    server = _serve(Phone(sacrum, with_acc=False))
    try:
        src = PhyphoxSource(f"127.0.0.1:{server.server_port}", sleep=lambda s: None)
        with pytest.raises(PhyphoxError, match="no accX, accY, accZ, acc_time buffers"):
            next(iter(src.batches()))
    finally:
        server.shutdown()
        server.server_close()


def test_phyphox_unreachable_gives_up_with_a_note(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = PhyphoxSource(f"http://127.0.0.1:{port}", sleep=lambda s: None, max_failures=2)
    with pytest.raises(OSError):  # /config itself fails: the command reports it
        next(iter(src.batches()))
