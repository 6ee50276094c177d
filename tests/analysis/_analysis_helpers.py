"""Helpers for the analysis tests: simulated runs in memory as store activities (no FIT files)."""

from __future__ import annotations

import hashlib

import pandas as pd

from stridelab.model import Activity
from stridelab.sim import SimulatedRun

HRM_PRO = ({"manufacturer": "garmin", "garmin_product": "hrm_pro", "device_type": "heart_rate"},)


def laps_frame(run: SimulatedRun) -> pd.DataFrame:
    """The laps of a simulated run as the store returns them."""
    return pd.DataFrame(
        [
            {
                "lap_index": lap.index,
                "intensity": lap.intensity,
                "avg_speed_m_s": lap.avg_speed_m_s,
                "sport": lap.sport,
            }
            for lap in run.laps
        ]
    )


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
