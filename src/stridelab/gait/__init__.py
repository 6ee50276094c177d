"""Raw-IMU gait engine: events per foot, gait phases, temporal metrics, strike, bounce, pelvis, lean,
the one-leg balance test and the function tests (five-times sit-to-stand, tandem walk).

Stages (one subpackage each, algorithms = configured object + one verb):
``orientation`` (frames, Madgwick orientation computed once per sensor), ``events`` (IC/TO detectors
per placement), ``metrics``
(strides, steps, symmetry, phases, kinematics), ``trajectory`` (foot trajectories by a ZUPT-aided RTS
Kalman smoother: stride length, clearance, eversion, step width) and ``balance`` (single-leg stance).

Pure: data in, results out. Reading a file and keeping the analysis in the store is the IMU service's
job (:mod:`stridelab.services.imu`, :mod:`stridelab.store.imu`).
"""

from stridelab.gait._analyze import GaitAnalysis, analyze_recording, detect_events, sensor_orientations
from stridelab.gait._checks import ImuDataError
from stridelab.gait.balance import SingleLegStance, SitToStand, TandemWalk, compare_sides
from stridelab.gait.events import FootEventDetection, SacrumEventDetection, ShankEventDetection

__all__ = [
    "FootEventDetection",
    "GaitAnalysis",
    "ImuDataError",
    "SacrumEventDetection",
    "ShankEventDetection",
    "SingleLegStance",
    "SitToStand",
    "TandemWalk",
    "analyze_recording",
    "compare_sides",
    "detect_events",
    "sensor_orientations",
]
