"""Stage ``balance``: the one-leg balance test (sway RMS, path, 95 % ellipse, time to touch-down) and the
function tests (five-times sit-to-stand, tandem walk) from a lower-back sensor or a phone on the waist."""

from stridelab.gait.balance._function import SitToStand, TandemWalk
from stridelab.gait.balance._single_leg import SingleLegStance, compare_sides

__all__ = ["SingleLegStance", "SitToStand", "TandemWalk", "compare_sides"]
