"""Synthetic runner: realistic running FIT files with running dynamics from a declared truth.

>>> from stridelab.sim import RunTruth, simulate_run, write_fit
>>> run = simulate_run(RunTruth(kind="tempo", balance_left_pct_at_ref=50.8), seed=1)
>>> path = write_fit(run, "tempo.fit")          # + tempo.truth.json (all parameters and the seed)

See ``docs/sim.md`` for the model, the FIT layout and the guarantees (round trip to FIT resolution,
determinism, speed). The IMU signal simulator lives in :mod:`stridelab.sim.imu` (not imported here).
"""

from __future__ import annotations

from ._amplify import amplified_fit
from ._noise import NOISE_MODELS, RUN_OFFSET_SD_PP, apply_noise_model
from ._run import LATENT_COLUMNS, SimulatedRun, TimerEvent, simulate_run
from ._season import SEASON_TRUTH_SCHEMA, SeasonRun, read_season, simulate_season
from ._truth import RUN_KINDS, SEGMENT_KINDS, SENSORS, Pause, RunTruth, Segment, plan_segments
from ._write import RUN_TRUTH_SCHEMA, encode_run, read_truth, to_activity, truth_path, write_fit

__all__ = [
    "LATENT_COLUMNS",
    "NOISE_MODELS",
    "RUN_KINDS",
    "RUN_OFFSET_SD_PP",
    "RUN_TRUTH_SCHEMA",
    "SEASON_TRUTH_SCHEMA",
    "SEGMENT_KINDS",
    "SENSORS",
    "Pause",
    "RunTruth",
    "SeasonRun",
    "Segment",
    "SimulatedRun",
    "TimerEvent",
    "amplified_fit",
    "apply_noise_model",
    "encode_run",
    "plan_segments",
    "read_season",
    "read_truth",
    "simulate_run",
    "simulate_season",
    "to_activity",
    "truth_path",
    "write_fit",
]
