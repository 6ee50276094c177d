"""Recognise the IMU columns of a table without a sidecar: canonical names, unit-suffixed names
(``acc_x_g``, ``gyr_x_dps`` ...) and gaitmap's two-header CSV (row 1 = sensor, row 2 = axis); and, for
a table that matches none of them, the sidecar that would read it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from stridelab.frames import SENSOR_FRAME_ACC, SENSOR_FRAME_GYR

__all__ = ["ColumnSpec", "is_two_header_csv", "read_two_header_csv", "recognise_columns", "sidecar_hint"]

#: unit suffix of a column name (lower-cased) -> unit name of :mod:`stridelab.units`.
ACC_SUFFIXES: Final[dict[str, str]] = {
    "g": "g",
    "mg": "mg",
    "ms2": "m/s^2",
    "mps2": "m/s^2",
    "m_s2": "m/s^2",
    "m_s_2": "m/s^2",
    "m/s^2": "m/s^2",
    "m/s2": "m/s^2",
    "si": "m/s^2",
}
GYR_SUFFIXES: Final[dict[str, str]] = {
    "dps": "deg/s",
    "degs": "deg/s",
    "deg_s": "deg/s",
    "deg/s": "deg/s",
    "rads": "rad/s",
    "rad_s": "rad/s",
    "rad/s": "rad/s",
    "rps": "rad/s",
    "si": "rad/s",
}
_SUFFIXED = re.compile(r"^(acc|gyr)_([xyz])(?:(?:_|\s*[\[\(]|\s+)(.+?)[\]\)]?)?$", re.IGNORECASE)


@dataclass(frozen=True)
class ColumnSpec:
    """Where a table keeps its IMU columns: canonical name -> file column, and the units they imply."""

    columns: dict[str, str]
    acc_unit: str | None  # None: not declared by the names (the caller's option applies)
    gyr_unit: str | None


def recognise_columns(columns: list[str]) -> ColumnSpec | None:
    """The IMU columns of a table: canonical (``acc_x`` ...) or unit-suffixed (``acc_x_g``,
    ``acc_x_m/s^2``, ``gyr_x_dps``, ``gyr_x (rad/s)`` ...). None when the accelerometer axes are not all
    found. Raises ``ValueError`` for an unknown suffix or axes of one sensor in different units."""
    mapping: dict[str, str] = {}
    units: dict[str, set[str]] = {"acc": set(), "gyr": set()}
    for col in columns:
        name = str(col).strip()
        m = _SUFFIXED.match(name)
        if not m:
            continue
        kind, axis, suffix = m.group(1).lower(), m.group(2).lower(), m.group(3)
        key = f"{kind}_{axis}"
        if suffix is None:
            mapping.setdefault(key, str(col))
            continue
        table = ACC_SUFFIXES if kind == "acc" else GYR_SUFFIXES
        unit = table.get(suffix.strip().lower())
        if unit is None:
            raise ValueError(
                f"column {name!r}: unknown unit suffix {suffix!r}; known: {', '.join(sorted(table))}"
            )
        if key in mapping:
            raise ValueError(f"columns {mapping[key]!r} and {name!r} both hold {key}")
        mapping[key] = str(col)
        units[kind].add(unit)
    if not all(c in mapping for c in SENSOR_FRAME_ACC):
        return None
    for kind, found in units.items():
        if len(found) > 1:
            raise ValueError(f"the {kind} columns are in different units ({sorted(found)})")
    return ColumnSpec(
        mapping,
        next(iter(units["acc"])) if units["acc"] else None,
        next(iter(units["gyr"])) if units["gyr"] else None,
    )


def is_two_header_csv(path: Path) -> bool:
    """True for a CSV whose second row names the axes under a first row naming the sensors (gaitmap's
    ``imu_sample.csv``: ``sensor,left_sensor,...`` / ``axis,acc_x,...``)."""
    if path.suffix.lower() not in {".csv", ".txt"} or not path.is_file():
        return False
    with path.open(encoding="utf-8", errors="replace") as fh:
        head = [fh.readline() for _ in range(2)]
    if len(head) < 2 or not head[1]:
        return False
    first = [c.strip() for c in head[0].split(",")]
    second = [c.strip() for c in head[1].split(",")]
    if len(first) != len(second) or len(second) < 4:
        return False
    return recognise_columns(second[1:]) is not None and recognise_columns(first[1:]) is None


def read_two_header_csv(path: Path) -> dict[str, pd.DataFrame]:
    """The sensors of a two-header CSV, ``{sensor name: table with its axis columns}`` in file order."""
    frame = pd.read_csv(path, header=[0, 1], index_col=0)
    out: dict[str, pd.DataFrame] = {}
    for sensor in dict.fromkeys(str(s) for s in frame.columns.get_level_values(0)):
        part = frame[sensor]
        out[sensor] = pd.DataFrame(part.to_numpy(), columns=[str(c) for c in part.columns])
    return out


def sidecar_hint(path: Path, columns: list[str]) -> str:
    """A sentence naming the sidecar that would read the table at ``path`` and its skeleton."""
    guess: dict[str, str] = {}
    for c in columns:
        low = str(c).lower().replace(" ", "")
        for canon in (*SENSOR_FRAME_ACC, *SENSOR_FRAME_GYR):
            kind, axis = canon.split("_")
            alias = {"acc": ("acc", "a"), "gyr": ("gyr", "gyro", "g", "w", "rot")}[kind]
            if canon not in guess and any(
                low in (f"{a}{axis}", f"{a}_{axis}", f"{a}.{axis}") or low.startswith(f"{a}_{axis}_")
                for a in alias
            ):
                guess[canon] = str(c)
    skeleton = {
        "time": {"sampling_rate_hz": 100},
        "sensors": [
            {
                "placement": "foot",
                "side": "left",
                "columns": {c: guess.get(c, "?") for c in (*SENSOR_FRAME_ACC, *SENSOR_FRAME_GYR)},
                "acc_unit": "m/s^2",
                "gyr_unit": "deg/s",
            }
        ],
    }
    return (
        f"a sidecar {path.with_name(path.stem + '.imu.json').name} next to it would read it "
        f"(see docs/imu.md), e.g. {json.dumps(skeleton)}"
    )
