"""Stage ``metrics``: temporal parameters, symmetry, phases and kinematic metrics per stride/step."""

from stridelab.gait.metrics._kinematics import (
    LEAN_BAND_RAD,
    foot_strike,
    pelvic_obliquity,
    strike_pattern,
    trunk_lean,
    upright_trunk_axis,
    vertical_oscillation,
)
from stridelab.gait.metrics._phases import foot_phases
from stridelab.gait.metrics._swing import shank_phases
from stridelab.gait.metrics._temporal import (
    DETECTED_PHASE_COLUMNS,
    PHASE_COLUMNS,
    gait_phases,
    step_table,
    stride_table,
    symmetry,
    temporal_summary,
)

__all__ = [
    "DETECTED_PHASE_COLUMNS",
    "LEAN_BAND_RAD",
    "PHASE_COLUMNS",
    "foot_phases",
    "foot_strike",
    "gait_phases",
    "pelvic_obliquity",
    "shank_phases",
    "step_table",
    "stride_table",
    "strike_pattern",
    "symmetry",
    "temporal_summary",
    "trunk_lean",
    "upright_trunk_axis",
    "vertical_oscillation",
]
