"""Laps and splits for people: display rows (sport-aware speed, metric units from the registry) and
the JSON contract of ``stridelab laps --json``."""

from __future__ import annotations

from typing import Any

from stridelab.analysis import METRICS
from stridelab.present import format as fmt
from stridelab.present import metrics

__all__ = ["split_columns", "split_rows", "splits_json"]


def split_columns(table: Any, *, units: str = "metric") -> list[tuple[str, str]]:
    """(key, header) of the display columns: split, distance, time, speed, elevation, the metrics
    present, arm."""
    cols = [
        ("split", "split"),
        ("distance", "distance"),
        ("time", "time"),
        ("speed", f"speed ({fmt.speed_unit(table.sport, units=units)})"),
        ("elevation", f"elev +/- ({'ft' if units == 'imperial' else 'm'})"),
    ]
    for k in table.metrics:
        spec = METRICS[k]
        cols.append((k, f"{spec.short_label or spec.label} ({metrics.display(k, units)[1]})"))
    if table.arms:
        cols.append(("arm", "arm"))
    return cols


def split_rows(table: Any, *, units: str = "metric") -> list[dict[str, str]]:
    """One dict of display strings per split, keys as :func:`split_columns`."""
    out = []
    per_m = 1.0 / fmt.M_PER_FT if units == "imperial" else 1.0  # elevation in ft for imperial
    for r in table.frame.to_dict("records"):
        dist = r["distance_m"]
        row = {
            "split": str(r["split"]),
            "distance": fmt.km(dist, units=units),
            "time": fmt.duration(r["duration_s"]),
            "speed": fmt.sport_speed(r["speed_m_s"], table.sport, units=units),
            "elevation": (
                f"+{abs(r['elevation_gain_m']) * per_m:.0f} / -{abs(r['elevation_loss_m']) * per_m:.0f}"
                if fmt.is_finite(r["elevation_gain_m"]) and fmt.is_finite(r["elevation_loss_m"])
                else fmt.DASH
            ),
        }
        for k in table.metrics:
            factor, _unit, decimals = metrics.display(k, units)
            v = r.get(k)
            row[k] = fmt.num(float(v) * factor, decimals) if fmt.is_finite(v) else fmt.DASH
        if table.arms:
            row["arm"] = ", ".join(table.arms.get(int(r["number"]), []))
        out.append(row)
    return out


def splits_json(table: Any) -> dict[str, Any]:
    """``stridelab laps --json``: the run, how it is split, and per split the SI numbers (``*_m``,
    ``*_s``, ``*_m_s``; metric means under their canonical column names) and the arms tagged on it."""
    rows = []
    for r in table.frame.to_dict("records"):
        item: dict[str, Any] = {
            "split": r["split"],
            "number": int(r["number"]),
            "start_time": r["start_time"].isoformat() if r["start_time"] is not None else None,
            "distance_m": r["distance_m"],
            "duration_s": r["duration_s"],
            "speed_m_s": r["speed_m_s"],
            "elevation_gain_m": r["elevation_gain_m"],
            "elevation_loss_m": r["elevation_loss_m"],
        }
        for k in table.metrics:
            item[METRICS[k].column] = r.get(k)
        item["arms"] = table.arms.get(int(r["number"]), [])
        rows.append(item)
    return {"run_id": table.run_id, "sport": table.sport, "by": table.by, "splits": rows}
