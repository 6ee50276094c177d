"""Shared test helper: a simulated run as a store :class:`Activity` (no FIT encoding, so fast)."""

from __future__ import annotations

import hashlib

from stridelab.model import Activity
from stridelab.sim import SimulatedRun

HRM_PRO = ({"manufacturer": "garmin", "garmin_product": "hrm_pro", "device_type": "heart_rate"},)


def activity_from_sim(
    run: SimulatedRun, key: str, devices: tuple[dict[str, object], ...] = HRM_PRO
) -> Activity:
    """An :class:`Activity` holding a simulated run (what ``import`` would store, without FIT)."""
    return Activity(
        id=hashlib.sha256(key.encode()).hexdigest(),
        source_path=None,
        format="sim",
        start_time=run.start_time,
        duration_s=run.timer_s,
        elapsed_s=run.elapsed_s,
        distance_m=run.distance_m,
        sport="running",
        sub_sport=None,
        records=run.records,
        laps=run.laps,
        devices=devices,
    )
