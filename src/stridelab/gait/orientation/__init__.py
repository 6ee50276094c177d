"""Stage: orientation -- sensor→body frame alignment and orientation tracking (ahrs Madgwick)."""

from stridelab.gait.orientation._align import (
    frame_from_axes,
    gravity_direction,
    horizontal_principal_axis,
    orientation_madgwick,
    vertical_in_sensor,
)

__all__ = [
    "frame_from_axes",
    "gravity_direction",
    "horizontal_principal_axis",
    "orientation_madgwick",
    "vertical_in_sensor",
]
