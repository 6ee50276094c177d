"""The IMU recording reader: a data file (CSV/Parquet table, Sensor Logger or phyphox export) that a
JSON sidecar (``run.imu.json`` beside ``run.csv``) describes, into an :class:`ImuRecording`.

A recording is recognised by its sidecar, never by its content or extension alone: without one, the
placement and units are unknown (``stridelab imu FILE --placement ...`` passes them as options).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

from stridelab.io._reader import Reader
from stridelab.io.imu._recording import ImuRecording
from stridelab.io.imu._sidecar import SIDECAR_SUFFIX, find_sidecar, read_imu, read_recording_with_sidecar

__all__ = ["ImuReader"]


class ImuReader(Reader[ImuRecording]):
    """IMU recordings with a JSON sidecar. :meth:`read` takes the data file's path (the sidecar lies
    beside it; without options, a missing sidecar is an error); ``options`` are those of
    :func:`~stridelab.io.imu.read_imu` (placement, side, units, rate...) for a file without one."""

    name: ClassVar[str] = "imu"
    description: ClassVar[str] = "IMU recordings described by a JSON sidecar (<data file>.imu.json)"
    companions: ClassVar[tuple[str, ...]] = (SIDECAR_SUFFIX,)
    produces: ClassVar[type] = ImuRecording

    def sniff(self, head: bytes, name: str) -> bool:
        if not name or name.lower().endswith(SIDECAR_SUFFIX):
            return False
        try:
            return find_sidecar(name) is not None
        except (OSError, ValueError):  # a name that is no path (an upload, a zip member)
            return False

    def read(self, source: str | Path | bytes, *, name: str | None = None, **options: Any) -> ImuRecording:
        if isinstance(source, bytes):
            raise ValueError(
                f"{name or 'an IMU recording'}: read IMU recordings from their file "
                "(the sidecar lies beside it)"
            )
        # read alone, a recording needs its sidecar; with options, read_imu also takes a bare table
        recording = read_imu(source, **options) if options else read_recording_with_sidecar(source)
        return recording if name is None else dataclasses.replace(recording, source_path=name)
