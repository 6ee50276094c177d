"""Cues: when a metric stays outside its band for ``hold_s`` seconds of stream time, say so -- at most
once per ``min_gap_s`` per metric (rate-limited), with a text the runner can act on.

Default band: the GCT balance's green zone in Garmin's running dynamics (49.2–50.8 % left; Garmin,
"Running Dynamics" manual: green 49.2–50.8, orange to 47.8/52.2, red beyond).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["BALANCE_ZONES_LEFT_PCT", "DEFAULT_BAND", "KINEMATIC_LABELS", "CueRule", "Cues", "parse_band"]

#: the cue band without a running plan or a --band: GCT balance within Garmin's green zone
DEFAULT_BAND = "stance_time_balance_left_pct=49.2:50.8"

#: the live kinematics (rad, shown in degrees) and their labels, in display order (CLI panel, live page)
KINEMATIC_LABELS: tuple[tuple[str, str], ...] = (
    ("foot_strike_angle_rad_left", "foot strike L"),
    ("foot_strike_angle_rad_right", "foot strike R"),
    ("pelvic_drop_rad_left", "hip drop, left stance"),
    ("pelvic_drop_rad_right", "hip drop, right stance"),
    ("trunk_lean_rad", "trunk lean"),
)

#: Garmin's GCT balance colour zones (% left): (upper bound, zone), the last open-ended.
BALANCE_ZONES_LEFT_PCT: tuple[tuple[float, str], ...] = (
    (47.8, "red"),
    (49.2, "orange"),
    (50.8, "green"),
    (52.2, "orange"),
    (math.inf, "red"),
)

_TEXT = {
    "stance_time_balance_left_pct": ("even out: left {value:.1f} %", "even out: left {value:.1f} %"),
    "cadence_spm": ("quicker steps: cadence {value:.0f}", "longer steps: cadence {value:.0f}"),
    "stance_time_s": ("quicker off the ground: contact {ms:.0f} ms", "contact {ms:.0f} ms"),
}


@dataclass(frozen=True, slots=True)
class CueRule:
    """A band for one metric (SI units, as the metric's name says) and its timing (stream seconds)."""

    metric: str
    low: float
    high: float
    hold_s: float = 10.0
    min_gap_s: float = 30.0

    def text(self, value: float) -> str:
        below, above = _TEXT.get(self.metric, ("{metric} low: {value:.3g}", "{metric} high: {value:.3g}"))
        tpl = below if value < self.low else above
        return tpl.format(value=value, ms=value * 1000, metric=self.metric)


def parse_band(text: str, *, hold_s: float = 10.0, min_gap_s: float = 30.0) -> CueRule:
    """``"METRIC=LOW:HIGH"`` (e.g. ``stance_time_balance_left_pct=49.2:50.8``) → a rule."""
    name, sep, rng = text.partition("=")
    low, sep2, high = rng.partition(":")
    try:
        lo, hi = float(low), float(high)
    except ValueError:
        raise ValueError(f"a cue band is METRIC=LOW:HIGH, got {text!r}") from None
    if not (sep and sep2 and name.strip()) or not lo < hi:
        raise ValueError(f"a cue band is METRIC=LOW:HIGH with LOW < HIGH, got {text!r}")
    return CueRule(name.strip(), lo, hi, hold_s, min_gap_s)


class Cues:
    """Track each rule over the updates; ``check(time_s, metrics)`` returns the cues due now."""

    def __init__(self, rules: tuple[CueRule, ...]) -> None:
        self.rules = rules
        self._outside_since: dict[str, float | None] = {r.metric: None for r in rules}
        self._last_cue: dict[str, float] = {}

    def check(self, time_s: float, metrics: dict[str, float]) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for r in self.rules:
            v = metrics.get(r.metric, math.nan)
            if not (isinstance(v, float | int) and math.isfinite(v)) or r.low <= v <= r.high:
                self._outside_since[r.metric] = None
                continue
            since = self._outside_since[r.metric]
            if since is None:
                self._outside_since[r.metric] = since = time_s
            last = self._last_cue.get(r.metric, -math.inf)
            if time_s - since >= r.hold_s and time_s - last >= r.min_gap_s:
                self._last_cue[r.metric] = time_s
                out.append(
                    {"metric": r.metric, "value": float(v), "text": r.text(float(v)), "time_s": time_s}
                )
        return out
