"""Stage ``trajectory``: foot trajectories from a foot IMU (zero-velocity-aided RTS Kalman smoother) and
the spatial parameters per stride and step (stride length, foot clearance, eversion, step width,
crossover) with their left/right symmetry."""

from stridelab.gait.trajectory._rts import ZuptRtsKalman, gravity_quaternion, zero_velocity_mask

__all__ = ["ZuptRtsKalman", "gravity_quaternion", "zero_velocity_mask"]
