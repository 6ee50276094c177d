"""``stridelab imu FILE``: analyse a raw IMU recording (gait events, metrics, balance test) and store it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from stridelab.cli._common import AthleteOpt, JsonOpt, StoreOpt, console, open_store, print_json
from stridelab.cli._common import fail as _fail
from stridelab.frames import check_option, check_placement, check_side
from stridelab.present.text import markup as esc

__all__ = ["register"]

#: summary keys shown to humans -> (label, factor from SI, unit)
_DISPLAY: dict[str, tuple[str, float, str]] = {
    "cadence_spm": ("cadence", 1.0, "steps/min"),
    "contact_time_s": ("ground contact time", 1000.0, "ms"),
    "contact_time_s_left": ("  left", 1000.0, "ms"),
    "contact_time_s_right": ("  right", 1000.0, "ms"),
    "balance_left_pct": ("GCT balance", 1.0, "% left"),
    "symmetry_index_pct": ("GCT symmetry index", 1.0, "%"),
    "symmetry_angle_pct": ("GCT symmetry angle", 1.0, "%"),
    "flight_time_s": ("flight time", 1000.0, "ms"),
    "double_support_s": ("double support", 1000.0, "ms"),
    "step_time_s": ("step time", 1000.0, "ms"),
    "stride_time_s": ("stride time", 1000.0, "ms"),
    "swing_time_s": ("swing time", 1000.0, "ms"),
    "duty_factor": ("duty factor", 100.0, "% of stride"),
    "foot_strike_angle_rad_left": ("foot strike angle left", math.degrees(1.0), "deg"),
    "foot_strike_angle_rad_right": ("foot strike angle right", math.degrees(1.0), "deg"),
    "vertical_oscillation_m": ("vertical oscillation", 100.0, "cm"),
    "stride_length_m_left": ("stride length left (foot trajectory)", 100.0, "cm"),
    "stride_length_m_right": ("stride length right (foot trajectory)", 100.0, "cm"),
    "stride_length_m_symmetry_index_pct": ("stride length symmetry index", 1.0, "%"),
    "foot_clearance_m_left": ("foot clearance left (sensor lift)", 100.0, "cm"),
    "foot_clearance_m_right": ("foot clearance right (sensor lift)", 100.0, "cm"),
    "foot_clearance_m_symmetry_index_pct": ("foot clearance symmetry index", 1.0, "%"),
    "eversion_excursion_rad_left": ("eversion (pronation) excursion left", math.degrees(1.0), "deg"),
    "eversion_excursion_rad_right": ("eversion (pronation) excursion right", math.degrees(1.0), "deg"),
    "step_width_m": ("step width (indicative, docs/imu.md)", 100.0, "cm"),
    "step_width_sd_m": ("step width SD", 100.0, "cm"),
    "crossover_index_pct": ("crossover index (indicative)", 1.0, "% of steps"),
    "pelvic_drop_rad_left": ("pelvic drop, left stance", math.degrees(1.0), "deg"),
    "pelvic_drop_rad_right": ("pelvic drop, right stance", math.degrees(1.0), "deg"),
    "trunk_lean_rad": ("trunk forward lean (6-10 deg band)", math.degrees(1.0), "deg"),
    "sway_rms_m_s2": ("sway RMS", 1.0, "m/s²"),
    "path_length_m_s2": ("sway path length", 1.0, "m/s²"),
    "ellipse_area_m2_s4": ("95 % ellipse area", 1.0, "m²/s⁴"),
    "time_to_touchdown_s": ("time to first touch-down", 1.0, "s"),
}


def _show(summary: dict[str, Any], rec_id: str | None, problems: tuple[str, ...]) -> None:
    table = Table(title=f"IMU analysis{f' {rec_id[:12]}' if rec_id else ''}", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for key in ("gait_mode", "events_from", "foot_strike_pattern_left", "foot_strike_pattern_right"):
        if key in summary:
            table.add_row(key.replace("_", " "), esc(summary[key]), "")
    for key, (label, factor, unit) in _DISPLAY.items():
        value = summary.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            table.add_row(label, f"{value * factor:.1f}", unit)
    console.print(table)
    for p in problems:
        console.print(f"[yellow]warning:[/] {esc(p)}")


#: per-stride spatial columns shown with --strides -> (header, factor from SI)
_STRIDE_COLUMNS: dict[str, tuple[str, float]] = {
    "stride_length_m": ("stride length cm", 100.0),
    "foot_clearance_m": ("clearance cm", 100.0),
    "eversion_at_ic_rad": ("eversion at IC deg", math.degrees(1.0)),
    "eversion_excursion_rad": ("eversion excursion deg", math.degrees(1.0)),
    "turning_angle_rad": ("turning deg", math.degrees(1.0)),
}


def _show_strides(strides: Any, steps: Any) -> None:
    """Per-stride foot-trajectory values (and the step width of the stride's first step)."""
    cols = [c for c in _STRIDE_COLUMNS if c in strides]
    if not cols:
        console.print("no per-stride foot-trajectory values (they need foot sensors with a gyroscope)")
        return
    width = {}
    if "step_width_m" in steps:
        width = {
            (sd, round(float(t), 6)): w
            for sd, t, w in zip(steps["side"], steps["ic_s"], steps["step_width_m"], strict=False)
        }
    table = Table(title="per stride (foot trajectories)", show_header=True)
    for header in ("side", "IC s", *(_STRIDE_COLUMNS[c][0] for c in cols), "step width cm"):
        table.add_column(header, justify="right")
    for _, row in strides.iterrows():
        cells = [esc(row["side"]), f"{row['ic_s']:.2f}"]
        for c in cols:
            v = float(row[c]) * _STRIDE_COLUMNS[c][1]
            cells.append(f"{v:.1f}" if math.isfinite(v) else "-")
        w = width.get((row["side"], round(float(row["ic_s"]), 6)), math.nan)
        cells.append(f"{100 * w:.1f}" if math.isfinite(w) else "-")
        table.add_row(*cells)
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command("imu")
    def imu(
        file: Path = typer.Argument(
            ..., help="IMU recording: CSV/Parquet table, Sensor Logger or phyphox export."
        ),
        placement: str | None = typer.Option(
            None,
            "--placement",
            help="Sensor placement: foot, shank, sacrum, chest (not needed with a sidecar).",
        ),
        side: str | None = typer.Option(
            None, "--side", help="left or right (foot/shank; standing leg for balance)."
        ),
        rate_hz: float | None = typer.Option(
            None, "--rate-hz", help="Sampling rate when the file has no time column."
        ),
        acc_unit: str = typer.Option("m/s^2", "--acc-unit", help="Accelerometer unit: m/s^2, g or mg."),
        gyr_unit: str = typer.Option("rad/s", "--gyr-unit", help="Gyroscope unit: rad/s or deg/s."),
        time_column: str | None = typer.Option(
            None, "--time-column", help="Timestamp column (default time_s)."
        ),
        time_unit: str = typer.Option("s", "--time-unit", help="Timestamp unit: s, ms, us, ns or datetime."),
        activity: str | None = typer.Option(
            None, "--activity", help="running, walking or balance (one-leg stand); default: detected."
        ),
        no_store: bool = typer.Option(False, "--no-store", help="Analyse only; do not keep the result."),
        show_strides: bool = typer.Option(
            False, "--strides", help="Also print the per-stride foot-trajectory values (foot sensors)."
        ),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
        json_out: bool = JsonOpt,
    ) -> None:
        """Analyse a raw IMU recording: IC/TO per foot, contact/flight/step time, symmetry, strike,
        bounce, pelvic drop, trunk lean -- or a one-leg balance test -- and store the per-step table."""
        from stridelab.services import imu as imu_service  # lazy: the gait engine (scipy/ahrs) is heavy

        try:
            sensor_placement = None if placement is None else check_placement(placement)
            sensor_side = None if side is None else check_side(side)
            if activity is not None:
                check_option("activity", activity, ("running", "walking", "balance"))
            if not file.exists():
                raise FileNotFoundError(f"{file} does not exist")
            if not imu_service.has_sidecar(file) and placement is None:
                raise ValueError(
                    "give --placement (foot, shank, sacrum, chest) or add a sidecar (docs/imu.md)"
                )
            rec, analysis = imu_service.analyse_file(
                file,
                activity=activity,
                placement=sensor_placement,
                side=sensor_side,
                sampling_rate_hz=rate_hz,
                acc_unit=acc_unit,
                gyr_unit=gyr_unit,
                time_column=time_column,
                time_unit=time_unit,
            )
        except (ValueError, FileNotFoundError, imu_service.ImuDataError, KeyError) as exc:
            raise _fail(str(exc)) from exc
        rec_id = None
        if not no_store:
            st = open_store(store)
            rec_id = imu_service.save_analysis(st, athlete, file, rec, analysis)
        if json_out:
            print_json(
                {
                    "id": rec_id,
                    "activity": analysis.activity,
                    "summary": analysis.summary,
                    "problems": list(analysis.problems),
                    "steps": analysis.steps.to_dict(orient="records"),
                    "strides": analysis.strides.to_dict(orient="records"),
                }
            )
            return
        _show(analysis.summary, rec_id, analysis.problems)
        if show_strides:
            _show_strides(analysis.strides, analysis.steps)
