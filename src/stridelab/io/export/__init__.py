"""Writers of a run for other tools: FIT (with running dynamics and developer fields), TCX
(TrainingCenterDatabase v2 + ActivityExtension v2) and GPX 1.1 (+ Garmin TrackPointExtension v2,
PowerExtension v1). Each takes an :class:`~stridelab.model.Activity` (SI records) and returns the
file's bytes; units are converted in the writers only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from stridelab.io.export._gpx import gpx_point_count, write_gpx
from stridelab.io.export._tcx import write_tcx
from stridelab.io.fit import write_activity_fit as write_fit
from stridelab.model import Activity

__all__ = ["WRITERS", "gpx_point_count", "write_fit", "write_gpx", "write_tcx"]

#: export format -> writer
WRITERS: Final[dict[str, Callable[[Activity], bytes]]] = {
    "fit": write_fit,
    "tcx": write_tcx,
    "gpx": write_gpx,
}
