"""Stage ``balance``: the one-leg balance test (sway RMS, path, 95 % ellipse, time to touch-down)."""

from stridelab.gait.balance._single_leg import SingleLegStance, compare_sides

__all__ = ["SingleLegStance", "compare_sides"]
