"""Stage ``trajectory``: foot trajectories from a foot IMU (zero-velocity-aided RTS Kalman smoother) and
the spatial parameters per stride and step (stride length, foot clearance, eversion, step width,
crossover) with their left/right symmetry."""

from stridelab.gait.trajectory._rts import ZuptRtsKalman, gravity_quaternion, zero_velocity_mask
from stridelab.gait.trajectory._spatial import (
    SPATIAL_STRIDE_COLUMNS,
    FootTrack,
    foot_track,
    footprints,
    spatial_summary,
    step_widths,
    stride_spatial,
)

__all__ = [
    "SPATIAL_STRIDE_COLUMNS",
    "FootTrack",
    "ZuptRtsKalman",
    "foot_track",
    "footprints",
    "gravity_quaternion",
    "spatial_summary",
    "step_widths",
    "stride_spatial",
    "zero_velocity_mask",
]
