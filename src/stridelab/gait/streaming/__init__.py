"""Streaming variants of the gait stages: the offline detectors and metrics run incrementally.

* :class:`StreamingEventDetection` -- wraps any offline IC/TO detector (foot, shank, sacrum) over a
  bounded look-back buffer: each ``interval_s`` of stream time the detector runs on the last
  ``buffer_s`` seconds and the events that lie at least ``settle_s`` away from the buffer's edges are
  final (the zero-phase filters and the peak search see the same samples around them as offline).
* :class:`StreamingGait` -- several sensors at once, and the rolling-window metrics (same names as
  everywhere in stridelab: ``cadence_spm``, ``stance_time_s``, ``stance_time_balance_left_pct``,
  ``step_time_symmetry_index_pct`` ...) computed with the offline metric functions, and the
  kinematics of the sensors that show them (:data:`LIVE_KINEMATICS`: foot strike angle, pelvic drop,
  trunk lean) from the offline per-stride functions over an orientation carried across chunks.

Pure: chunks of samples in, events and metric dicts out; no clocks, no I/O.
"""

from stridelab.gait.streaming._engine import (
    LIVE_KINEMATICS,
    LIVE_METRICS,
    LiveUpdate,
    StreamingEventDetection,
    StreamingGait,
    window_metrics,
)

__all__ = [
    "LIVE_KINEMATICS",
    "LIVE_METRICS",
    "LiveUpdate",
    "StreamingEventDetection",
    "StreamingGait",
    "window_metrics",
]
