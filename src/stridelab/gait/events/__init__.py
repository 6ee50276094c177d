"""Stage ``events``: initial contact (IC) and toe-off (TO) detectors, one per placement.

Every detector is a configured object with one verb, ``detect(data, *, sampling_rate_hz, side)``,
returning ``self`` with ``events_``, ``ic_s_``, ``to_s_``, ``gait_mode_``, ``body_frame_`` and
``problems_`` set (see :mod:`stridelab.gait.events.base`).
"""

from stridelab.frames import EventPlacement
from stridelab.gait.events._foot import FootEventDetection
from stridelab.gait.events._sacrum import SacrumEventDetection
from stridelab.gait.events._shank import ShankEventDetection
from stridelab.gait.events.base import EVENT_COLUMNS, BaseEventDetector, events_frame

__all__ = [
    "DETECTORS",
    "EVENT_COLUMNS",
    "BaseEventDetector",
    "FootEventDetection",
    "SacrumEventDetection",
    "ShankEventDetection",
    "events_frame",
]

#: placement -> default detector class.
DETECTORS: dict[EventPlacement, type[BaseEventDetector]] = {
    "foot": FootEventDetection,
    "shank": ShankEventDetection,
    "sacrum": SacrumEventDetection,
}
