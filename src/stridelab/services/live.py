"""Live sessions: read a recording to replay, and keep a finished live session in the store.

The live loop (:mod:`stridelab.live`) records every session to an append-only journal; when the
session ends the journal, read back as an :class:`ImuRecording`, is analysed offline and stored like
any imported IMU recording (the store's IMU repository owns the writes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stridelab.gait import analyze_recording
from stridelab.io.imu import ImuReader, ImuRecording, ImuSensor
from stridelab.store import Store
from stridelab.store.imu import recording_id, store_imu_analysis

__all__ = ["ImuRecording", "ImuSensor", "read_recording", "save_session"]


def read_recording(path: str | Path, **options: Any) -> ImuRecording:
    """Read an IMU recording (any format the IMU reader knows; ``options`` as for ``stridelab imu``)."""
    return ImuReader().read(Path(path), **options)


def save_session(store: Store, athlete: str, journal: str | Path, recording: ImuRecording) -> str:
    """Analyse a finished live session (its journal read back as ``recording``) and store it as an IMU
    recording; returns its id (the hash of the journal's bytes)."""
    analysis = analyze_recording(recording)
    return store_imu_analysis(store, athlete, recording_id(journal), recording, analysis)
