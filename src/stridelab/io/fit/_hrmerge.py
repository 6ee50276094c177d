"""Heart-rate merge of the fast engine: ``hr`` messages into ``record.heart_rate``, as the SDK does.

A port of ``garmin_fit_sdk.hr_mesg_utils.merge_heart_rates``: the heart rates that ``hr`` messages
hold (anchored by ``event_timestamp``) are averaged over the time span of each ``record``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stridelab.io.fit._defs import FIT_EPOCH_S

__all__ = ["merge_heart_rates"]


def merge_heart_rates(hr_mesgs: list[dict[Any, Any]], record_ts: list[float]) -> dict[int, int]:
    """Port of ``garmin_fit_sdk.hr_mesg_utils.merge_heart_rates``: record index -> new heart_rate."""
    heartrates = _expand_heart_rates(hr_mesgs)
    out: dict[int, int] = {}
    hr_index = 0
    start: float | None = None
    for i, end_t in enumerate(record_ts):
        hr_sum = 0.0
        hr_count = 0
        if start is None:
            start = end_t
        if start == end_t:
            start -= 1
            hr_index = hr_index - 1 if hr_index >= 1 else 0
        while hr_index < len(heartrates):
            ts, bpm = heartrates[hr_index]
            if start < ts <= end_t:
                hr_sum += bpm
                hr_count += 1
            elif ts > end_t:
                if hr_count > 0:
                    out[i] = int((hr_sum / hr_count) + 0.5)
                start = end_t
                break
            hr_index += 1
    return out


def _expand_heart_rates(hr_mesgs: list[dict[Any, Any]]) -> list[tuple[float, Any]]:
    gap_ms, gap_s, max_steps = 250, 0.25, 5000 / 250
    anchor_event: float | None = 0.0
    anchor_ts: float | None = None
    rates: list[tuple[float, Any]] = []
    for m in hr_mesgs:
        ev = m["event_timestamp"]
        evs = ev if isinstance(ev, list) else [ev]
        bpm = m["filtered_bpm"]
        bpms = bpm if isinstance(bpm, list) else [bpm]
        if m.get("timestamp") is not None:
            t = m["timestamp"]
            anchor_ts = t.timestamp() - FIT_EPOCH_S if isinstance(t, datetime) else t
            if m["fractional_timestamp"] is not None:
                anchor_ts += m["fractional_timestamp"]
            if len(evs) == 1:
                anchor_event = evs[0]
            else:
                raise ValueError("anchor HR message must have exactly one event_timestamp")
        if anchor_ts is None or anchor_event is None:
            raise ValueError("no anchor timestamp before delta HR messages")
        if len(evs) != len(bpms):
            raise ValueError("HR message with mismatching event_timestamp and filtered_bpm")
        for e, b in zip(evs, bpms, strict=True):
            if e < anchor_event:
                if anchor_event - e > 0x400000:
                    e += 0x400000
                else:
                    raise ValueError("anchor event_timestamp greater than a later event_timestamp")
            cur = anchor_ts + (e - anchor_event)
            if rates:
                prev_t, prev_b = rates[-1]
                gap = abs(cur - prev_t) * 1000
                step = 1
                while gap > gap_ms and step <= max_steps:
                    rates.append((prev_t + gap_s * step, prev_b))
                    gap -= gap_ms
                    step += 1
            rates.append((cur, b))
    return rates
