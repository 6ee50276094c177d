"""Helpers of the experiment tests: simulated runs stored as activities (no FIT files)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from _simstore import HRM_PRO, activity_from_sim
from stridelab.sim import RunTruth, Segment, simulate_run
from stridelab.store import Store

RD_POD = ({"manufacturer": "garmin", "garmin_product": "running_dynamics_pod", "device_type": 30},)
START = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)


def lap_run_truth(
    order: list[int],
    effect_pp: float,
    day: int,
    *,
    speeds: list[float] | None = None,
    sensor: str = "hrm_pro",
) -> RunTruth:
    """A run: a 10-min warm-up lap, then one ~1 km lap per entry of ``order`` (0 = arm A, 1 = arm B,
    whose balance is shifted by ``effect_pp``)."""
    segs = [Segment("warmup", 600.0, 2.65)]
    for i, arm in enumerate(order):
        v = speeds[i] if speeds else 3.0
        segs.append(Segment("steady", round(1000.0 / v), v, balance_offset_pp=effect_pp * arm))
    return RunTruth(
        kind="custom",
        segments=tuple(segs),
        laps="segments",
        start_time=START + timedelta(days=day),
        sensor=sensor,  # type: ignore[arg-type]
    )


def store_runs(store: Store, truths: list[RunTruth], seed: int = 0, athlete: str = "me") -> list[str]:
    """Simulate and store ``truths``; returns the activity ids in order."""
    ids = []
    for i, truth in enumerate(truths):
        run = simulate_run(truth, seed=seed + i)
        devices = RD_POD if truth.sensor == "rd_pod" else HRM_PRO
        act = activity_from_sim(run, f"exp-{seed}-{i}-{truth.start_time.isoformat()}", devices)
        store.add_activity(athlete, act)
        ids.append(act.id)
    return ids


def pair_order(rng: np.random.Generator, n_pairs: int) -> list[int]:
    """Arm per block with the order randomised within each pair."""
    out: list[int] = []
    for _ in range(n_pairs):
        out += [0, 1] if rng.random() < 0.5 else [1, 0]
    return out
