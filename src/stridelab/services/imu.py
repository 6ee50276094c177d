"""IMU recordings: read one (the IMU reader of :mod:`stridelab.io`), analyse it (the pure gait engine,
:func:`stridelab.gait.analyze_recording`) and keep the analysis in the store (:mod:`stridelab.store.imu`).

What ``stridelab imu FILE`` and the import of a recording with a sidecar do. Importing this module
loads the gait engine (scipy, ahrs): front ends import it where they need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stridelab.gait import GaitAnalysis, ImuDataError, analyze_recording
from stridelab.io import Reader
from stridelab.io.imu import ImuReader, ImuRecording, find_sidecar
from stridelab.store import Store
from stridelab.store.imu import has_imu_recording, load_imu_analysis, recording_id, store_imu_analysis

__all__ = [
    "GaitAnalysis",
    "ImuDataError",
    "ImuImport",
    "ImuRecording",
    "analyse_file",
    "has_sidecar",
    "import_imu_recording",
    "import_recording",
    "load_imu_analysis",
    "save_analysis",
]


@dataclass(frozen=True, slots=True)
class ImuImport:
    """The outcome of importing one recording: its id, and False when it was stored already."""

    id: str
    imported: bool


def has_sidecar(path: str | Path) -> bool:
    """Does a JSON sidecar (``run.imu.json`` beside ``run.csv``) describe the recording at ``path``?"""
    return find_sidecar(path) is not None


def analyse_file(
    path: str | Path, *, activity: str | None = None, **options: Any
) -> tuple[ImuRecording, GaitAnalysis]:
    """Read the recording at ``path`` (``options``: placement, side, sampling_rate_hz, acc_unit,
    gyr_unit, time_column, time_unit -- for a file without a sidecar) and analyse it (``activity``:
    running, walking or balance; default detected). Raises ``ValueError``, ``FileNotFoundError``,
    ``KeyError`` or :class:`ImuDataError` with a one-line reason."""
    recording = ImuReader().read(Path(path), **options)
    return recording, analyze_recording(recording, activity=activity)


def save_analysis(
    store: Store, athlete: str, path: str | Path, recording: ImuRecording, analysis: GaitAnalysis
) -> str:
    """Keep the analysis of the recording read from ``path``; returns the recording id."""
    return store_imu_analysis(store, athlete, recording_id(path), recording, analysis)


def import_recording(
    store: Store, athlete: str, path: str | Path, *, reader: Reader[Any] | None = None
) -> ImuImport:
    """Read, analyse and store the recording at ``path`` (a data file with its sidecar) unless it is
    stored already (same data and sidecar bytes)."""
    rec_id = recording_id(path)
    if has_imu_recording(store, athlete, rec_id):
        return ImuImport(rec_id, imported=False)
    recording = (reader or ImuReader()).read(Path(path))
    if not isinstance(recording, ImuRecording):
        raise TypeError(f"{path}: the {reader!r} reader did not return an IMU recording")
    store_imu_analysis(store, athlete, rec_id, recording, analyze_recording(recording))
    return ImuImport(rec_id, imported=True)


def import_imu_recording(store: Store, athlete: str, path: str | Path) -> str:
    """Read an IMU recording described by its JSON sidecar, analyse it and store it; returns its id.

    For ``run.csv`` the sidecar is ``run.imu.json`` (or ``run.csv.imu.json``); see docs/imu.md for the
    format. Re-importing the same bytes replaces the stored analysis.
    """
    recording = ImuReader().read(Path(path))
    return store_imu_analysis(store, athlete, recording_id(path), recording, analyze_recording(recording))
