"""The live loop: source → journal (first, so nothing is lost) → streaming gait → cues → updates."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from stridelab.gait.streaming import StreamingGait
from stridelab.live.cues import Cues
from stridelab.live.laps import LapPlan
from stridelab.live.recorder import Recorder
from stridelab.live.sources.base import Source

__all__ = ["LiveSession"]


class LiveSession:
    """Run a source to its end (or ``close()``), yielding one dict per update (and per note).

    An update: ``{"type": "update", "time_s", "latency_s", "window_start_s", "window_end_s", <LIVE_METRICS>,
    "cues": [...]}`` -- ``time_s`` is stream time (s), ``latency_s`` the time from the arrival of the last
    sample used to the emission of the value. A note: ``{"type": "note", "time_s", "text"}``.
    """

    def __init__(
        self,
        source: Source,
        journal: str | Path,
        *,
        window_s: float = 30.0,
        interval_s: float = 1.0,
        cues: Cues | None = None,
        source_label: str = "",
        clock: Callable[[], float] = time.perf_counter,
        laps: LapPlan | None = None,
        lap_s: float | None = None,
        targets: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        self.source = source
        sensors = source.sensors()
        self.recorder = Recorder(journal, sensors, source=source_label)
        self.journal = Path(journal)
        rates = {s.sampling_rate_hz for s in sensors}
        if len(rates) != 1:
            raise ValueError(f"the sensors of one live stream must share a rate, got {sorted(rates)} Hz")
        self.rate = rates.pop()
        self.gait = StreamingGait(
            tuple((s.name, s.placement, s.side) for s in sensors),
            self.rate,
            window_s=window_s,
            interval_s=interval_s,
        )
        self.cues = cues
        self._clock = clock
        self._expected: dict[str, int] = {s.name: 0 for s in sensors}
        if lap_s is not None and not lap_s > 0:
            raise ValueError(f"the lap length must be positive seconds, got {lap_s!r}")
        self.laps, self.lap_s, self.targets = laps, lap_s, dict(targets or {})
        self._lap = 0

    def close(self) -> None:
        self.source.close()

    def _lap_items(self, t: float) -> Iterator[dict[str, Any]]:
        """Timer laps (every ``lap_s`` of stream time), announced with the experiment arm."""
        if self.lap_s is None:
            return
        while self._lap * self.lap_s <= t:
            self._lap += 1
            n = self._lap
            text = self.laps.announce(n) if self.laps else f"lap {n}"
            arm = self.laps.arm(n) if self.laps else None
            yield {"type": "lap", "time_s": (n - 1) * self.lap_s, "lap": n, "text": text, "arm": arm}

    def run(self) -> Iterator[dict[str, Any]]:
        for metric, (lo, hi) in self.targets.items():
            yield {"type": "target", "metric": metric, "low": lo, "high": hi}
        try:
            for batch in self.source.batches():
                self.recorder.append(batch)  # recorded before anything else can fail
                t = batch.first_index / self.rate
                yield from self._lap_items(t)
                for note in batch.notes:
                    yield {"type": "note", "time_s": t, "text": f"{batch.sensor}: {note}"}
                expected = self._expected.get(batch.sensor, 0)
                samples = batch.samples
                if batch.first_index > expected:  # a hole between batches: keep the grid, mark the gap
                    hole = np.full((batch.first_index - expected, samples.shape[1]), np.nan)
                    samples = np.vstack([hole, samples])
                    yield {
                        "type": "note",
                        "time_s": t,
                        "text": f"{batch.sensor}: gap of {len(hole) / self.rate:.2f} s",
                    }
                elif batch.first_index < expected:  # overlap with what was pushed already: drop it
                    samples = samples[expected - batch.first_index :]
                if not len(samples):
                    continue
                self._expected[batch.sensor] = expected + len(samples)
                self.gait.push(batch.sensor, samples)
                if self.gait.update_ is not None:
                    yield self._emit(self.gait.update_, batch.arrived_s)
            self.gait.finish()
            if self.gait.update_ is not None:
                yield self._emit(self.gait.update_, self._clock())
        finally:
            self.recorder.close()

    def _emit(self, update: Any, arrived_s: float) -> dict[str, Any]:
        d: dict[str, Any] = {"type": "update", **update.as_dict()}
        d["latency_s"] = max(self._clock() - arrived_s, 0.0)
        d["cues"] = self.cues.check(update.time_s, update.metrics) if self.cues else []
        d["problems"] = list(update.problems)
        latest = getattr(self.source, "latest", None)  # readings beside the IMU (BLE speed, heart rate)
        if isinstance(latest, dict):
            d.update({k: v for k, v in latest.items() if k not in d})
        for k, v in list(d.items()):
            if isinstance(v, float) and not math.isfinite(v):
                d[k] = None
        return d
