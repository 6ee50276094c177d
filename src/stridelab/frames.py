"""Named coordinate frames, sides and placements for IMU data, with validators and converters.

Two frames are used for inertial data (after gaitmap, Küderle et al. 2024, and mobgap):

* the **sensor frame** -- whatever axes the device reports: columns ``acc_x, acc_y, acc_z`` (m/s²) and
  ``gyr_x, gyr_y, gyr_z`` (rad/s). The mounting orientation is arbitrary.
* the **body frame** -- anatomical axes of the segment the sensor sits on: ``pa`` (posterior → anterior,
  i.e. forward), ``ml`` (medio-lateral, pointing to the **left** of the person), ``si`` (inferior →
  superior, i.e. up). Right-handed (``pa × ml = si``). At rest an accelerometer reads **+9.81 m/s²** on
  the axis that points up (it measures the reaction to gravity), so ``acc_si ≈ +g`` when upright.

Left/right mirroring is a named map (:data:`MIRROR_LEFT_RIGHT`): a right-side body-frame signal is
converted into the "left-equivalent" signal by multiplying each column by its factor, so that the same
event detector can run on both feet without any sign buried in algorithm code.

Transforms carry their ``from_frame`` and ``to_frame`` and are checked when applied (MNE style).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal, get_args

from stridelab.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "BODY_FRAME",
    "BODY_FRAME_ACC",
    "BODY_FRAME_GYR",
    "EVENT_PLACEMENTS",
    "MIRROR_LEFT_RIGHT",
    "OTHER_SIDE",
    "PLACEMENTS",
    "SENSOR_FRAME",
    "SENSOR_FRAME_ACC",
    "SENSOR_FRAME_GYR",
    "SIDES",
    "EventPlacement",
    "FrameTransform",
    "Placement",
    "Side",
    "check_option",
    "check_placement",
    "check_side",
    "mirror_to_left",
    "to_body_frame",
]

#: the side of the body a sensor (or a standing leg) is on.
Side = Literal["left", "right"]
#: placements known to the engine. ``sacrum`` covers lower back / waist / a phone in a waistband.
Placement = Literal["foot", "shank", "sacrum", "chest"]
#: placements with an event detector (``detect_events``).
EventPlacement = Literal["foot", "shank", "sacrum"]

#: the values of :data:`Side`, :data:`Placement` and :data:`EventPlacement` at run time, in that order.
SIDES: Final[tuple[Side, ...]] = get_args(Side)
OTHER_SIDE: Final[Mapping[str, str]] = MappingProxyType({"left": "right", "right": "left"})
PLACEMENTS: Final[tuple[Placement, ...]] = get_args(Placement)
EVENT_PLACEMENTS: Final[tuple[EventPlacement, ...]] = get_args(EventPlacement)

SENSOR_FRAME_ACC: Final[tuple[str, str, str]] = ("acc_x", "acc_y", "acc_z")
SENSOR_FRAME_GYR: Final[tuple[str, str, str]] = ("gyr_x", "gyr_y", "gyr_z")
SENSOR_FRAME: Final[tuple[str, ...]] = SENSOR_FRAME_ACC + SENSOR_FRAME_GYR
BODY_FRAME_ACC: Final[tuple[str, str, str]] = ("acc_pa", "acc_ml", "acc_si")
BODY_FRAME_GYR: Final[tuple[str, str, str]] = ("gyr_pa", "gyr_ml", "gyr_si")
BODY_FRAME: Final[tuple[str, ...]] = BODY_FRAME_ACC + BODY_FRAME_GYR

#: Multiply a RIGHT-side body-frame column by this factor to get the LEFT-equivalent signal. Mirroring
#: through the sagittal plane flips the medio-lateral axis; accelerations along it change sign, and
#: rotations about the two in-plane axes (pa, si) change sign while rotation about ml does not.
MIRROR_LEFT_RIGHT: Final[Mapping[str, float]] = MappingProxyType(
    {
        "acc_pa": 1.0,
        "acc_ml": -1.0,
        "acc_si": 1.0,
        "gyr_pa": -1.0,
        "gyr_ml": 1.0,
        "gyr_si": -1.0,
    }
)


def check_option(parameter: str, value: object, allowed: Iterable[object]) -> object:
    """Return ``value`` if it is one of ``allowed``, else raise a uniform :class:`ValueError`.

    The message follows MNE-Python: "Invalid value for the 'placement' parameter. Allowed values are
    'foot', 'shank', 'sacrum', but got 'hip' instead."
    """
    allowed_t = tuple(allowed)
    if value in allowed_t:
        return value
    listed = ", ".join(repr(a) for a in allowed_t)
    raise ValueError(
        f"Invalid value for the {parameter!r} parameter. Allowed values are {listed}, "
        f"but got {value!r} instead."
    )


def check_side(value: object, parameter: str = "side") -> Side:
    """``value`` as a :data:`Side`, else the :func:`check_option` ``ValueError`` (e.g. for user input)."""
    check_option(parameter, value, SIDES)
    assert value in SIDES  # check_option raised otherwise; narrows the type
    return value


def check_placement(value: object, parameter: str = "placement") -> Placement:
    """``value`` as a :data:`Placement`, else the :func:`check_option` ``ValueError``."""
    check_option(parameter, value, PLACEMENTS)
    assert value in PLACEMENTS  # check_option raised otherwise; narrows the type
    return value


@dataclass(frozen=True, slots=True)
class FrameTransform:
    """A rotation taking vectors from ``from_frame`` to ``to_frame``: ``v_to = rotation @ v_from``.

    ``rotation`` is a proper 3×3 rotation matrix (orthonormal, det +1), checked on construction.
    """

    from_frame: str
    to_frame: str
    rotation: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        r = np.asarray(self.rotation, dtype=float)
        if r.shape != (3, 3):
            raise ValueError(f"FrameTransform.rotation must be 3x3, got shape {r.shape}")
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-6) or not np.isclose(np.linalg.det(r), 1.0, atol=1e-6):
            raise ValueError("FrameTransform.rotation must be a proper rotation (orthonormal, det=+1)")
        object.__setattr__(self, "rotation", r)

    def apply(self, vectors: npt.ArrayLike, *, frame: str) -> npt.NDArray[np.float64]:
        """Rotate (N, 3) ``vectors`` that are expressed in ``frame`` (must equal ``from_frame``)."""
        if frame != self.from_frame:
            raise ValueError(
                f"Cannot apply a {self.from_frame}->{self.to_frame} transform to data in the {frame!r} frame"
            )
        v = np.asarray(vectors, dtype=float)
        return v @ self.rotation.T

    def compose(self, other: FrameTransform) -> FrameTransform:
        """``self`` after ``other``: ``other.from_frame -> self.to_frame`` (frames must chain)."""
        if other.to_frame != self.from_frame:
            raise ValueError(
                f"Cannot compose {self.from_frame}->{self.to_frame} "
                f"after {other.from_frame}->{other.to_frame}"
            )
        return FrameTransform(other.from_frame, self.to_frame, self.rotation @ other.rotation)

    def inverse(self) -> FrameTransform:
        return FrameTransform(self.to_frame, self.from_frame, self.rotation.T)


def to_body_frame(data: pd.DataFrame, transform: FrameTransform) -> pd.DataFrame:
    """Rotate sensor-frame columns (``acc_x..``, ``gyr_x..``) into body-frame columns (``acc_pa..``)."""
    if transform.from_frame != "sensor" or transform.to_frame != "body":
        raise ValueError(
            f"to_body_frame needs a sensor->body transform, got {transform.from_frame}->{transform.to_frame}"
        )
    out = pd.DataFrame(index=data.index)
    acc = transform.apply(data[list(SENSOR_FRAME_ACC)].to_numpy(float), frame="sensor")
    out[list(BODY_FRAME_ACC)] = acc
    if all(c in data.columns for c in SENSOR_FRAME_GYR):
        gyr = transform.apply(data[list(SENSOR_FRAME_GYR)].to_numpy(float), frame="sensor")
        out[list(BODY_FRAME_GYR)] = gyr
    return out


def mirror_to_left(body: pd.DataFrame, side: Side) -> pd.DataFrame:
    """Left-equivalent body-frame signal: unchanged for ``left``, mirrored by :data:`MIRROR_LEFT_RIGHT`."""
    check_option("side", side, SIDES)
    if side == "left":
        return body.copy()
    out = body.copy()
    for col, factor in MIRROR_LEFT_RIGHT.items():
        if col in out.columns:
            out[col] = out[col] * factor
    return out
