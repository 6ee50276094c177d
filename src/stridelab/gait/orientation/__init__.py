"""Stage: orientation -- sensor→body frame alignment and orientation tracking (Madgwick).

Compute the orientation of a sensor ONCE with :func:`estimate_orientation` (compiled Madgwick filter)
and pass the :class:`Orientation` to every detector and metric that takes ``orientation=``.
:func:`orientation_madgwick` is the ``ahrs`` reference implementation it is tested against.
"""

from stridelab.gait.orientation._align import (
    frame_from_axes,
    gravity_direction,
    horizontal_principal_axis,
    orientation_madgwick,
)
from stridelab.gait.orientation._madgwick import (
    DEFAULT_GAIN,
    Orientation,
    estimate_orientation,
    estimate_orientations,
    initial_quaternion,
    madgwick_quaternions,
    vertical_in_sensor,
)

__all__ = [
    "DEFAULT_GAIN",
    "Orientation",
    "estimate_orientation",
    "estimate_orientations",
    "frame_from_axes",
    "gravity_direction",
    "horizontal_principal_axis",
    "initial_quaternion",
    "madgwick_quaternions",
    "orientation_madgwick",
    "vertical_in_sensor",
]
