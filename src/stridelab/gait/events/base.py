"""Stage ``events``: the base class of every gait-event detector. Verb: ``detect``.

Result attributes (set by ``detect``):

* ``events_`` -- DataFrame, one row per event, columns ``time_s`` (seconds from the first sample),
  ``side`` ("left"/"right"), ``event`` ("IC"/"TO"), sorted by time; the public contract of
  :func:`stridelab.gait.detect_events`;
* ``ic_s_``, ``to_s_`` -- float arrays of IC and TO times (s);
* ``gait_mode_`` -- "running" (a flight phase exists) or "walking";
* ``body_frame_`` -- the sensor→body :class:`~stridelab.frames.FrameTransform` found;
* ``problems_`` -- tuple of human-readable data-quality notes (never silently dropped).
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from stridelab.frames import EventPlacement, FrameTransform, Side
from stridelab.gait._base import Algorithm

__all__ = ["EVENT_COLUMNS", "BaseEventDetector", "events_frame"]

EVENT_COLUMNS: tuple[str, str, str] = ("time_s", "side", "event")


def events_frame(
    ic_s: npt.ArrayLike, to_s: npt.ArrayLike, ic_side: npt.ArrayLike, to_side: npt.ArrayLike
) -> pd.DataFrame:
    """Build the sorted ``time_s, side, event`` table (typed even when empty)."""
    ic = np.asarray(ic_s, dtype=float)
    to = np.asarray(to_s, dtype=float)
    df = pd.DataFrame(
        {
            "time_s": np.r_[ic, to].astype(float),
            "side": pd.Series(
                [*np.asarray(ic_side, dtype=object), *np.asarray(to_side, dtype=object)], dtype=object
            ),
            "event": pd.Series(["IC"] * len(ic) + ["TO"] * len(to), dtype=object),
        }
    )
    order = np.lexsort((df["event"].to_numpy(), df["time_s"].to_numpy()))
    return df.iloc[order].reset_index(drop=True)


class BaseEventDetector(Algorithm):
    """Base for IC/TO detectors. Subclasses implement ``detect(data, *, sampling_rate_hz, side=None)``."""

    _action_method: ClassVar[str] = "detect"
    placement: ClassVar[EventPlacement]  # set by each detector

    events_: pd.DataFrame
    ic_s_: npt.NDArray[np.float64]
    to_s_: npt.NDArray[np.float64]
    gait_mode_: str
    body_frame_: FrameTransform
    problems_: tuple[str, ...]

    def detect(self, data: pd.DataFrame, *, sampling_rate_hz: float, side: Side | None = None) -> Self:
        raise NotImplementedError
