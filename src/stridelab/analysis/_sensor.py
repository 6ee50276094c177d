"""Which sensor produced the running dynamics, from the FIT ``device_info`` messages.

The FIT profile names Garmin products (``garmin_product``/``product``) either as strings (decoders that
apply the profile: ``hrm_run``, ``hrm_pro``, ``running_dynamics_pod``...) or as numbers (1752, 3300,
2593...). Both are recognised. Stryd is manufacturer ``stryd`` (95); COROS POD is ``coros`` (294) with a
foot-pod device type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["SensorInfo", "detect_sensor"]

#: garmin_product name -> (label, placement)
_GARMIN_PRODUCTS: Final[dict[str, tuple[str, str]]] = {
    "hrm_run": ("Garmin HRM-Run", "chest"),
    "hrm_run_single_byte_product_id": ("Garmin HRM-Run", "chest"),
    "hrm4_run": ("Garmin HRM-Run", "chest"),
    "hrm4_run_single_byte_product_id": ("Garmin HRM-Run", "chest"),
    "hrm_tri": ("Garmin HRM-Tri", "chest"),
    "hrm_tri_single_byte_product_id": ("Garmin HRM-Tri", "chest"),
    "hrm_pro": ("Garmin HRM-Pro", "chest"),
    "hrm_pro_plus": ("Garmin HRM-Pro Plus", "chest"),
    "hrm_fit": ("Garmin HRM-Fit", "chest"),
    "hrm_fit_single_byte_product_id": ("Garmin HRM-Fit", "chest"),
    "hrm_200": ("Garmin HRM 200", "chest"),
    "hrm_600": ("Garmin HRM 600", "chest"),
    "running_dynamics_pod": ("Garmin Running Dynamics Pod", "waist"),
}

#: garmin_product numbers of the same products (FIT profile 21.x)
_GARMIN_PRODUCT_IDS: Final[dict[int, str]] = {
    8: "hrm_run_single_byte_product_id",
    12: "hrm_tri_single_byte_product_id",
    13: "hrm4_run_single_byte_product_id",
    22: "hrm_fit_single_byte_product_id",
    1743: "hrm_tri",
    1752: "hrm_run",
    2327: "hrm4_run",
    2593: "running_dynamics_pod",
    3300: "hrm_pro",
    4130: "hrm_pro_plus",
    4446: "hrm_fit",
    4606: "hrm_200",
}

_PRIORITY: Final[dict[str, int]] = {"chest": 3, "waist": 3, "foot": 2, "wrist": 1, "unknown": 0}


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """The dynamics sensor: a label ("Garmin HRM-Pro"), a ``placement`` ("chest", "waist", "foot",
    "wrist", "unknown") and whether it was positively identified from device_info."""

    label: str
    placement: str
    identified: bool

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "placement": self.placement, "identified": self.identified}


def _norm(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


def _classify(device: Mapping[str, Any]) -> tuple[str, str] | None:
    manufacturer = _norm(device.get("manufacturer"))
    product: Any = device.get("garmin_product", device.get("product"))
    name = _norm(product)
    if name.isdigit():
        name = _GARMIN_PRODUCT_IDS.get(int(name), name)
    if (
        manufacturer in ("garmin", "1", "dynastream", "15", "dynastream_oem", "13", "")
        and name in _GARMIN_PRODUCTS
    ):
        return _GARMIN_PRODUCTS[name]
    dtype = _norm(device.get("antplus_device_type", device.get("device_type")))
    if manufacturer in ("stryd", "95"):
        return ("Stryd foot pod", "foot")
    if manufacturer in ("coros", "294") and dtype in ("stride_speed_distance", "124", "footpod"):
        return ("COROS POD", "waist")
    if dtype in ("stride_speed_distance", "124") and manufacturer:
        return (f"{manufacturer} foot pod", "foot")
    return None


def detect_sensor(
    devices: Iterable[Mapping[str, Any]] | None, *, has_balance: bool, from_developer_fields: bool = False
) -> SensorInfo:
    """Best guess of the sensor that produced the running dynamics of a run.

    A chest strap or waist pod wins over a foot pod, which wins over the watch. Without a recognisable
    accessory: GCT balance needs a torso accessory, so balance data means "unidentified accessory"; no
    balance means the watch itself (wrist-based dynamics) or no dynamics.
    """
    best: tuple[str, str] | None = None
    for device in devices or ():
        found = _classify(device)
        if found and (best is None or _PRIORITY[found[1]] > _PRIORITY[best[1]]):
            best = found
    if from_developer_fields and not has_balance:
        return SensorInfo("Stryd foot pod (developer fields)", "foot", best is not None and best[1] == "foot")
    if best is not None:
        return SensorInfo(best[0], best[1], True)
    if has_balance:
        return SensorInfo("unidentified torso accessory", "unknown", False)
    return SensorInfo("watch or unknown", "wrist", False)
