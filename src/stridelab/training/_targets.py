"""The live target a training plan sets: the GCT balance band it aims at while it runs."""

from __future__ import annotations

from datetime import date
from typing import Any

from stridelab.analysis import BALANCE_ZONE_LIMITS_PCT

__all__ = ["plan_target_bands"]


def plan_target_bands(plan: dict[str, Any] | None, today: date) -> dict[str, tuple[float, float]]:
    """The GCT balance band a training plan aims at while it runs: Garmin's green (balanced) zone.

    A plan is built to even out the measured asymmetry (``weaker_side``); while it runs (``start`` ≤
    today ≤ ``end``) and names a weaker side, the live gauge shows the balanced zone as its target and the
    cue fires outside it. A plan without a weaker side (both sides trained alike) or not running today
    sets no band.
    """
    if not plan or not plan.get("weaker_side"):
        return {}
    try:
        start, end = date.fromisoformat(str(plan["start"])), date.fromisoformat(str(plan["end"]))
    except (KeyError, ValueError):
        return {}
    if not start <= today <= end:
        return {}
    half = BALANCE_ZONE_LIMITS_PCT[0] - 50.0
    return {"stance_time_balance_left_pct": (50.0 - half, 50.0 + half)}
