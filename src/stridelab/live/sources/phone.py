"""A phone on the network: the Sensor Logger app's HTTP push, received by a local FastAPI route.

Payload (Sensor Logger's documented push schema, awesome-sensor-logger ``PUSHING.md``)::

    {"messageId": 0, "sessionId": "…", "deviceId": "…",
     "payload": [{"name": "totalacceleration", "time": 1698501144401773000,
                  "values": {"x": …, "y": …, "z": …}}, {"name": "gyroscope", …}, …]}

``time`` is UTC epoch nanoseconds; ``totalacceleration`` is m/s² with gravity (what the gait engine
needs), ``gyroscope`` rad/s. Other sensors in the batch are ignored. The app samples each sensor on
its own jittery clock: :class:`SensorLoggerStream` resamples both onto one uniform grid at the
declared rate and repairs what arrives wrong, with a note each time: a malformed batch is refused
(:class:`PayloadError`, the session keeps running), out-of-order and duplicated samples are dropped,
a gap is marked with NaN rows, a clock jump restarts the grid after a marked gap, and a sender far
above the declared rate is resampled down.
"""

from __future__ import annotations

import hmac
import json
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from stridelab.live.sources.base import Batch, SensorInfo

__all__ = ["PayloadError", "PhoneSource", "SensorLoggerStream", "phone_app"]

_ACC, _GYR = "totalacceleration", "gyroscope"
#: a hole longer than this between two samples is a gap (NaN rows), not interpolated over.
_GAP_S = 0.25
#: a jump longer than this (or backwards) is a clock jump: the grid restarts after a marked gap.
_JUMP_S = 30.0


class PayloadError(ValueError):
    """A batch that cannot be read (the reason is in the message); the stream itself goes on."""


def _xyz(entry: dict[str, Any]) -> tuple[float, float, float]:
    vals = entry.get("values", entry)
    if not isinstance(vals, dict):
        raise PayloadError("'values' is not an object")
    try:
        return float(vals["x"]), float(vals["y"]), float(vals["z"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError(f"missing or non-numeric x/y/z ({exc})") from None


class SensorLoggerStream:
    """Sensor Logger push batches → uniform :class:`Batch` es of one sensor (pure, no I/O).

    ``sampling_rate_hz`` is the rate set in the app (the grid's rate); ``max_rate_factor``: a batch
    sent faster than this × the declared rate is noted (and resampled like any other).
    """

    def __init__(
        self, sensor: str = "phone", *, sampling_rate_hz: float = 100.0, max_rate_factor: float = 3.0
    ):
        if not (math.isfinite(sampling_rate_hz) and sampling_rate_hz > 0):
            raise ValueError(f"sampling_rate_hz must be positive, got {sampling_rate_hz!r}")
        self.sensor = sensor
        self.fs = sampling_rate_hz
        self.max_rate_factor = max_rate_factor
        self._t0: float | None = None  # stream time origin (s, epoch)
        self._k = 0  # next grid index to emit
        self._buf: dict[str, tuple[list[float], list[tuple[float, float, float]]]] = {
            _ACC: ([], []),
            _GYR: ([], []),
        }
        self._last_t: dict[str, float] = {}
        self._session: str | None = None
        self._message_ids: set[int] = set()
        self._has_gyr: bool | None = None
        self._gap_rows = 0
        self._pending_notes: list[str] = []
        self.notes: list[str] = []

    def feed(self, body: object, arrived_s: float) -> list[Batch]:
        """Read one pushed batch; returns the uniform batches now complete. Raises :class:`PayloadError`."""
        if not isinstance(body, dict):
            raise PayloadError(f"a batch is a JSON object, got {type(body).__name__}")
        payload = body.get("payload")
        if not isinstance(payload, list):
            raise PayloadError("a batch needs a 'payload' list")
        mid = body.get("messageId")
        notes: list[str] = []
        if isinstance(mid, int) and not isinstance(mid, bool):
            if mid in self._message_ids:
                return self._note([f"message {mid} received twice: ignored"], [])
            self._message_ids.add(mid)
        session = body.get("sessionId")
        if isinstance(session, str):
            if self._session is not None and session != self._session:
                notes.append(f"the phone started a new session ({session[:40]!r}): continuing the stream")
            self._session = session
        fresh: dict[str, list[tuple[float, tuple[float, float, float]]]] = {_ACC: [], _GYR: []}
        bad = 0
        for entry in payload:
            if not isinstance(entry, dict) or entry.get("name") not in fresh:
                continue
            try:
                t = float(entry["time"]) / 1e9
                if not math.isfinite(t):
                    raise PayloadError("time is not finite")
                fresh[entry["name"]].append((t, _xyz(entry)))
            except (KeyError, TypeError, ValueError):
                bad += 1
        if bad:
            notes.append(f"{bad} malformed sample(s) skipped")
        if self._has_gyr is None and fresh[_ACC]:
            self._has_gyr = bool(fresh[_GYR])
        for name, rows in fresh.items():
            if not rows:
                continue
            rows.sort(key=lambda r: r[0])
            if len(rows) >= 10:
                span = rows[-1][0] - rows[0][0]
                rate = (len(rows) - 1) / span if span > 0 else math.inf
                if rate > self.max_rate_factor * self.fs:
                    notes.append(
                        f"{name}: sent at {rate:.0f} Hz, declared {self.fs:g} Hz: resampled to {self.fs:g} Hz"
                    )
            ts, vs = self._buf[name]
            last = self._last_t.get(name, -math.inf)
            dropped = 0
            for t, v in rows:
                if t <= last:
                    if last - t > _JUMP_S:
                        notes.append(
                            f"{name}: clock jumped back {last - t:.1f} s: stream continues after a gap"
                        )
                        self._restart(t)
                        last = -math.inf
                        ts, vs = self._buf[name]
                    else:
                        dropped += 1
                        continue
                elif t - last > _JUMP_S and math.isfinite(last):
                    notes.append(f"{name}: clock jumped ahead {t - last:.1f} s: stream continues after a gap")
                    self._restart(t)
                    ts, vs = self._buf[name]
                ts.append(t)
                vs.append(v)
                last = t
            self._last_t[name] = last
            if dropped:
                notes.append(f"{name}: {dropped} duplicated or out-of-order sample(s) dropped")
        return self._note(notes, self._emit(arrived_s, notes))

    def _note(self, notes: list[str], out: list[Batch]) -> list[Batch]:
        self.notes += notes
        if notes and not out:
            self._pending_notes += notes
        return out

    def _restart(self, t: float) -> None:
        """A clock jump: the grid goes on with 1 s of NaN (a marked gap), then data on the new clock."""
        self._gap_rows += int(self.fs)
        self._buf = {_ACC: ([], []), _GYR: ([], [])}
        self._last_t = {}
        self._t0 = None

    def _emit(self, arrived_s: float, notes: list[str]) -> list[Batch]:
        names = [_ACC, _GYR] if self._has_gyr else [_ACC]
        if any(not self._buf[n][0] for n in names):
            return []
        first = self._k
        gap = self._gap_rows
        if self._t0 is None:  # grid origin: row k at t0 + k / fs
            self._t0 = max(self._buf[n][0][0] for n in names) - (self._k + gap) / self.fs
        end = min(self._buf[n][0][-1] for n in names)
        k_hi = math.floor((end - self._t0) * self.fs + 1e-9)
        grid = self._t0 + np.arange(self._k + gap, k_hi + 1) / self.fs
        cols = []
        for n in names:
            t = np.asarray(self._buf[n][0])
            v = np.asarray(self._buf[n][1])
            block = np.column_stack([np.interp(grid, t, v[:, j]) for j in range(3)])
            # a grid point inside a hole longer than _GAP_S is a gap (NaN), never interpolated over
            idx = np.searchsorted(t, grid)
            lo, hi = np.clip(idx - 1, 0, len(t) - 1), np.clip(idx, 0, len(t) - 1)
            block[(t[hi] - t[lo]) > _GAP_S] = np.nan
            cols.append(block)
            if len(grid):
                keep = max(int(np.searchsorted(t, grid[-1])) - 1, 0)
                self._buf[n] = (self._buf[n][0][keep:], self._buf[n][1][keep:])
        data = np.hstack(cols)
        if gap and len(data):
            data = np.vstack([np.full((gap, data.shape[1]), np.nan), data])
            notes.append(f"gap of {gap / self.fs:.1f} s marked in the recording")
            self._gap_rows = 0
        if not len(data):
            return []
        self._k = first + len(data)
        out = Batch(self.sensor, first, data, arrived_s, tuple(self._pending_notes + notes))
        self._pending_notes = []
        return [out]


def phone_app(on_batch: Callable[[object], dict[str, Any]], *, token: str | None, host: str) -> FastAPI:
    """The FastAPI app with ``POST /live/phone`` (point Sensor Logger's HTTP push at it).

    Bound anywhere but 127.0.0.1 the route needs ``token`` (``Authorization: Bearer TOKEN`` or
    ``?token=TOKEN``); refusals (401, 400, 413) leave the session running.
    """
    if host != "127.0.0.1" and not token:
        raise ValueError(f"the phone endpoint on {host} (not 127.0.0.1) needs a token")
    app = FastAPI(title="stridelab live phone endpoint")

    @app.post("/live/phone")
    async def push(request: Request) -> JSONResponse:
        if token:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            given = given or request.query_params.get("token", "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"error": "missing or wrong token"}, status_code=401)
        raw = await request.body()
        if len(raw) > 5_000_000:
            return JSONResponse({"error": "batch larger than 5 MB refused"}, status_code=413)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return JSONResponse({"error": f"not JSON: {exc}"}, status_code=400)
        try:
            result = on_batch(body)
        except PayloadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(result)

    return app


class PhoneSource:
    """Batches pushed by a phone: a uvicorn server in a thread feeds a :class:`SensorLoggerStream`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8765,
        token: str | None = None,
        sampling_rate_hz: float = 100.0,
        placement: str = "sacrum",
        idle_timeout_s: float | None = None,
    ) -> None:
        self.stream = SensorLoggerStream(sampling_rate_hz=sampling_rate_hz)
        self.placement = placement
        self.host, self.port, self.token = host, port, token
        self.idle_timeout_s = idle_timeout_s
        self._queue: queue.Queue[Batch | None] = queue.Queue()
        self._lock = threading.Lock()
        self.app = phone_app(self._on_batch, token=token, host=host)
        self._server: Any = None

    def _on_batch(self, body: object) -> dict[str, Any]:
        with self._lock:
            out = self.stream.feed(body, time.perf_counter())
        for b in out:
            self._queue.put(b)
        return {"accepted_samples": sum(b.n for b in out), "notes": [n for b in out for n in b.notes]}

    def sensors(self) -> tuple[SensorInfo, ...]:
        return (SensorInfo(self.stream.sensor, self.placement, None, self.stream.fs),)

    def start(self) -> None:
        import uvicorn

        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning")
        )
        threading.Thread(target=self._server.run, daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._queue.put(None)

    def batches(self) -> Iterator[Batch]:
        if self._server is None:
            self.start()
        while True:
            try:
                item = self._queue.get(timeout=self.idle_timeout_s)
            except queue.Empty:
                return
            if item is None:
                return
            yield item
