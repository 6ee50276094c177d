"""phyphox's remote-access REST API, polled over HTTP (the phone serves; stridelab fetches).

After the phyphox wiki page "Remote-interface communication"
(https://phyphox.org/wiki/index.php/Remote-interface_communication): ``GET /config`` lists the
experiment's buffers (``{"buffers": [{"name", "size"}, …], …}``); ``GET /get?B=…`` returns
``{"buffer": {B: {"size", "updateMode", "buffer": [values]}}, "status": {"measuring", …}}``, where a
request value ``full`` asks for the whole buffer and a number ``T`` (optionally ``T|REF``) only for the
values whose entry in the reference buffer ``REF`` is greater than ``T`` -- the incremental fetch.

The "Acceleration (with g)" experiment has the buffers ``accX, accY, accZ`` (m/s², gravity included)
and ``acc_time`` (s of experiment time); a gyroscope (``gyrX … gyr_time``, rad/s) is used when the
experiment has one. The samples go through the same resampler and repairs as the Sensor Logger push
(:class:`~stridelab.live.sources.phone.SensorLoggerStream`): one uniform grid at ``sampling_rate_hz``,
duplicates and out-of-order samples dropped, holes marked as gaps, each with a note.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from stridelab.live.sources.base import Batch, SensorInfo, empty_samples
from stridelab.live.sources.phone import PayloadError, SensorLoggerStream

__all__ = ["PhyphoxError", "PhyphoxSource", "get_query"]

_SETS = {
    "totalacceleration": ("acc_time", ("accX", "accY", "accZ")),
    "gyroscope": ("gyr_time", ("gyrX", "gyrY", "gyrZ")),
}


class PhyphoxError(ValueError):
    """The phone's experiment has no accelerometer buffers, or a response is not phyphox's format."""


def get_query(time_buffer: str, buffers: tuple[str, ...], since_s: float | None) -> dict[str, str]:
    """The ``/get`` parameters: every buffer after ``since_s`` on ``time_buffer`` (``full`` at first)."""
    if since_s is None:
        return {b: "full" for b in (*buffers, time_buffer)}
    t = repr(float(since_s))
    return {**{b: f"{t}|{time_buffer}" for b in buffers}, time_buffer: t}


class PhyphoxSource:
    """Poll a phone running phyphox with remote access on (``http://PHONE:8080``) every ``poll_s``.

    The stream ends when the experiment stops measuring after data came in (``stop_when_paused``), when
    the phone cannot be reached ``max_failures`` polls in a row, or on ``close()``. ``sleep``/``clock``
    are injectable so that tests need no wall-clock waits.
    """

    def __init__(
        self,
        url: str,
        *,
        sampling_rate_hz: float = 100.0,
        placement: str = "sacrum",
        poll_s: float = 0.5,
        timeout_s: float = 3.0,
        max_failures: int = 10,
        stop_when_paused: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        u = urllib.parse.urlsplit(url if "//" in url else f"http://{url}")
        if u.scheme not in ("http", "https") or not u.netloc:
            raise ValueError(f"phyphox address must be http://HOST:PORT, got {url!r}")
        self.base = f"{u.scheme}://{u.netloc}"
        self.stream = SensorLoggerStream(sampling_rate_hz=sampling_rate_hz)
        self.placement = placement
        self.poll_s, self.timeout_s, self.max_failures = poll_s, timeout_s, max_failures
        self.stop_when_paused = stop_when_paused
        self._sleep, self._clock = sleep, clock
        self._closed = False
        self._next = 0
        self.requests: list[str] = []  # the paths requested (for the record and for tests)

    def sensors(self) -> tuple[SensorInfo, ...]:
        return (SensorInfo(self.stream.sensor, self.placement, None, self.stream.fs),)

    def close(self) -> None:
        self._closed = True

    def _json(self, path: str) -> Any:
        self.requests.append(path)
        req = urllib.request.Request(self.base + path, headers={"Connection": "close"})
        with urllib.request.urlopen(req, timeout=self.timeout_s) as r:
            body = r.read()
        try:
            return json.loads(body)
        except ValueError as exc:
            raise PhyphoxError(f"{self.base}{path}: not JSON ({body[:60]!r})") from exc

    def _sets(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        config = self._json("/config")
        if not isinstance(config, dict) or not isinstance(config.get("buffers"), list):
            raise PhyphoxError(f"{self.base}/config: no 'buffers' list; is this phyphox's remote access?")
        names = {b.get("name") for b in config["buffers"] if isinstance(b, dict)}
        sets: dict[str, tuple[str, tuple[str, ...]]] = {
            k: v for k, v in _SETS.items() if {v[0], *v[1]} <= names
        }
        if "totalacceleration" not in sets:
            title = str(config.get("title", "?"))[:60]
            raise PhyphoxError(
                f"the phyphox experiment {title!r} has no accX, accY, accZ, acc_time buffers: "
                "start 'Acceleration (with g)' on the phone"
            )
        return sets

    def batches(self) -> Iterator[Batch]:
        sets = self._sets()
        since: dict[str, float | None] = dict.fromkeys(sets)
        failures = 0
        seen_data = False
        while not self._closed:
            entries: list[dict[str, Any]] = []
            notes: list[str] = []
            measuring = True
            for name, (tb, axes) in sets.items():
                path = "/get?" + urllib.parse.urlencode(get_query(tb, axes, since[name]), safe="|")
                try:
                    resp = self._json(path)
                except (OSError, urllib.error.URLError, PhyphoxError) as exc:
                    failures += 1
                    notes.append(f"phyphox poll failed ({exc})")
                    break
                failures = 0
                try:
                    buf = resp["buffer"]
                    cols = [[float(v) for v in buf[b]["buffer"] if v is not None] for b in (tb, *axes)]
                    measuring = bool(resp.get("status", {}).get("measuring", True))
                except (KeyError, TypeError, ValueError) as exc:
                    notes.append(f"phyphox response not understood ({type(exc).__name__}: {exc}): skipped")
                    continue
                n = min(len(c) for c in cols)
                if n < max(len(c) for c in cols):
                    notes.append(f"{name}: buffers of unequal length, {n} complete samples kept")
                for k in range(n):
                    entries.append(
                        {
                            "name": name,
                            "time": round(cols[0][k] * 1e9),
                            "values": {"x": cols[1][k], "y": cols[2][k], "z": cols[3][k]},
                        }
                    )
                if n:
                    prev = since[name]
                    newest = max(cols[0][:n])
                    since[name] = newest if prev is None else max(prev, newest)
                    seen_data = True
            try:
                out = self.stream.feed({"payload": entries}, self._clock()) if entries else []
            except PayloadError as exc:
                notes.append(f"phyphox samples not understood ({exc})")
                out = []
            self.stream.notes.extend(notes)
            for b in out:
                yield Batch(b.sensor, b.first_index, b.samples, b.arrived_s, (*notes, *b.notes))
                self._next = max(self._next, b.first_index + b.n)
                notes = []
            if failures >= self.max_failures:
                notes.append(f"gave up: phyphox at {self.base} unreachable {failures} times in a row")
            if notes:  # notes without samples ride on an empty batch at the grid's end
                yield Batch(self.stream.sensor, self._next, empty_samples(3), self._clock(), tuple(notes))
            if failures >= self.max_failures:
                return
            if seen_data and not measuring and self.stop_when_paused:
                return
            self._sleep(self.poll_s)
