"""Helpers for the analysis tests: simulated runs in memory as store activities (no FIT files)."""

from __future__ import annotations

import pandas as pd

from stridelab.sim import SimulatedRun


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
