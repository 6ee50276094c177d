"""Live feedback while running: sources stream in, the streaming gait engine measures, cues go out,
and every session is journaled as it arrives (see docs/live.md).

Heavy or optional parts import lazily: the phone endpoint (FastAPI/uvicorn) when started, ``bleak``
only for a Bluetooth source.
"""

from stridelab.live.cues import BALANCE_ZONES_LEFT_PCT, CueRule, Cues, parse_band
from stridelab.live.recorder import Journal, Recorder, read_journal
from stridelab.live.session import LiveSession
from stridelab.live.sources import Batch, SensorInfo, Source

__all__ = [
    "BALANCE_ZONES_LEFT_PCT",
    "Batch",
    "CueRule",
    "Cues",
    "Journal",
    "LiveSession",
    "Recorder",
    "SensorInfo",
    "Source",
    "parse_band",
    "read_journal",
]
