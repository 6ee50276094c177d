"""JSON shaping of catalog rows: the ``stridelab runs --json`` items and the ``show --json`` object."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, Protocol

from stridelab.present.format import finite_or_none
from stridelab.store import ActivityRow

__all__ = ["DYNAMICS_KEYS", "LinkedLike", "linked_json", "run_item_json", "show_json"]

#: presentation keys of ``show --json`` -> (catalog summary key, factor from SI)
DYNAMICS_KEYS: Final[dict[str, tuple[str, float]]] = {
    "stance_time_ms_mean": ("stance_time_s_mean", 1000.0),
    "stance_time_balance_left_pct_mean": ("stance_time_balance_left_pct_mean", 1.0),
    "vertical_oscillation_mm_mean": ("vertical_oscillation_m_mean", 1000.0),
    "step_length_mm_mean": ("step_length_m_mean", 1000.0),
    "vertical_ratio_pct_mean": ("vertical_ratio_pct_mean", 1.0),
    "cadence_spm_mean": ("cadence_spm_mean", 1.0),
    "stance_time_pct_mean": ("stance_time_pct_mean", 1.0),
}


def _present(value: Any, factor: float = 1.0) -> float | None:
    if value is None:
        return None
    return finite_or_none(float(value) * factor)


def _utc(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _start(row: ActivityRow) -> str | None:
    """The run's start in UTC, or None when the source held no absolute time (not a date)."""
    return _utc(row.start_utc) if row.time_absolute else None


class LinkedLike(Protocol):
    """Another source of the same activity (``stridelab.services.duplicates.LinkedSource``)."""

    @property
    def id(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def source_path(self) -> str | None: ...
    @property
    def has(self) -> Sequence[str]: ...
    @property
    def reason(self) -> str: ...


def linked_json(linked: LinkedLike) -> dict[str, Any]:
    """One linked source in ``show --json`` (``duplicates`` items, ``duplicate_of``)."""
    return {
        "id": linked.id,
        "format": linked.format,
        "source_path": linked.source_path,
        "has": list(linked.has),
        "reason": linked.reason,
    }


def run_item_json(row: ActivityRow, tags: list[str], duplicates: Sequence[str] = ()) -> dict[str, Any]:
    """One item of ``stridelab runs --json`` (``duplicates``: ids of the same activity from other
    sources, linked to this one)."""
    return {
        "id": row.id,
        "start_time": _start(row),
        "time_absolute": row.time_absolute,
        "utc_offset_s": row.utc_offset_s,
        "sport": row.sport,
        "source_path": row.source_path,
        "duration_s": row.duration_s,
        "distance_m": row.distance_m,
        "balance_mean_left_pct": row.summary.get("stance_time_balance_left_pct_mean"),
        "tags": tags,
        "duplicates": list(duplicates),
    }


def show_json(
    row: ActivityRow,
    n_laps: int,
    tags: list[str],
    *,
    duplicates: Sequence[LinkedLike] = (),
    duplicate_of: LinkedLike | None = None,
) -> dict[str, Any]:
    """The ``show --json`` object (presentation units in the dynamics keys). ``duplicates``: the
    same activity from other sources, linked to this one (its primary); ``duplicate_of``: the primary
    this one is linked to (None when it is not a duplicate)."""
    summary = row.summary
    dynamics = {k: _present(summary.get(src), f) for k, (src, f) in DYNAMICS_KEYS.items()}
    developer = {
        d["column"]: {
            "app": d["app"],
            "field_name": d["field_name"],
            "units": d["units"],
            "mean": _present(summary.get(f"{d['column']}_mean")),
        }
        for d in summary.get("developer_columns", [])
    }
    return {
        "id": row.id,
        "athlete": row.athlete,
        "sport": row.sport,
        "sub_sport": row.sub_sport,
        "start_time": _start(row),
        "time_absolute": row.time_absolute,
        "duration_s": row.duration_s,
        "elapsed_s": row.elapsed_s,
        "distance_m": row.distance_m,
        "n_records": row.n_records,
        "source_path": row.source_path,
        "format": row.format,
        "manufacturer": row.manufacturer,
        "product": row.product,
        "serial_number": row.serial_number,
        "n_laps": n_laps,
        "speed_m_s_mean": _present(summary.get("speed_m_s_mean")),
        "heart_rate_bpm_mean": _present(summary.get("heart_rate_bpm_mean")),
        "dynamics": dynamics,
        "developer_fields": developer,
        "problems": summary.get("problems", []),
        "notes": summary.get("notes", []),
        "name": summary.get("name"),
        "gear": summary.get("gear"),
        "tags": tags,
        "duplicates": [linked_json(d) for d in duplicates],
        "duplicate_of": linked_json(duplicate_of) if duplicate_of is not None else None,
    }
