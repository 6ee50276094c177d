"""Experiment laps announced live: the arm (the cue to hold) of each lap from a running experiment's
protocol (:mod:`stridelab.analysis` ``make_protocol``), the experiment's target bands and the training
plan's.

``alternating-laps``: lap 1 is the warm-up, laps 2 … k+1 follow ``protocol["orders"][run - 1]``, later
laps are the cool-down; ``alternating-runs``: the whole run holds ``protocol["order"][run - 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stridelab.training import plan_target_bands

__all__ = ["LapPlan", "plan_target_bands", "target_bands"]


@dataclass(frozen=True, slots=True)
class LapPlan:
    """What to announce at each lap of run ``run`` (1-based) of an experiment."""

    name: str
    design: str
    protocol: dict[str, Any]
    run: int

    def __post_init__(self) -> None:
        n = int(self.protocol.get("runs", 0) or 0)
        if not 1 <= self.run <= max(n, 1):
            raise ValueError(f"experiment {self.name!r} plans {n} runs; run {self.run} is not one of them")

    def arm(self, lap: int) -> str | None:
        """The arm of lap ``lap`` (1-based); None for warm-up/cool-down or designs without lap arms."""
        if self.design == "alternating-laps":
            order = self.protocol["orders"][self.run - 1]
            return str(order[lap - 2]) if 2 <= lap <= len(order) + 1 else None
        if self.design == "alternating-runs":
            return str(self.protocol["order"][self.run - 1])
        return None

    def announce(self, lap: int) -> str:
        """``"lap 3: push behind"``, ``"lap 1: warm-up"``, ``"lap 8: cool-down"``."""
        arm = self.arm(lap)
        if arm is not None:
            return f"lap {lap}: {arm.replace('-', ' ').replace('_', ' ')}"
        if self.design == "alternating-laps":
            return f"lap {lap}: {'warm-up' if lap < 2 else 'cool-down'}"
        return f"lap {lap}"


def target_bands(protocol: dict[str, Any] | None) -> dict[str, tuple[float, float]]:
    """Target bands (SI) a running experiment sets: its pace band as ``speed_m_s``."""
    out: dict[str, tuple[float, float]] = {}
    band = (protocol or {}).get("pace_band_m_s")
    if isinstance(band, list | tuple) and len(band) == 2:
        out["speed_m_s"] = (float(band[0]), float(band[1]))
    return out
