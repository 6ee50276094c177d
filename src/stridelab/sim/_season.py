"""A season of synthetic runs: a realistic weekly mix with a slow trend in GCT balance."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np

from stridelab.version import __version__

from ._run import simulate_run
from ._truth import SENSORS, Pause, RunTruth, invalid_value_error
from ._write import Engine, read_truth, truth_path, write_fit

__all__ = ["DAYS_PER_MONTH", "SEASON_TRUTH_SCHEMA", "SeasonRun", "read_season", "simulate_season"]

SEASON_TRUTH_SCHEMA: Final[str] = "stridelab.sim.season/1"
SEASON_FILE: Final[str] = "season.truth.json"
#: the month of ``trend_pp_per_month`` (mean Gregorian month)
DAYS_PER_MONTH: Final[float] = 365.2425 / 12.0
_DEFAULT_SEASON_START: Final[datetime] = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
_DURATION_MIN: Final[dict[str, tuple[float, float]]] = {
    "easy": (35.0, 55.0),
    "tempo": (45.0, 55.0),
    "intervals": (45.0, 55.0),
    "long": (70.0, 100.0),
    "hills": (40.0, 50.0),
}


@dataclass(frozen=True, slots=True)
class SeasonRun:
    """One run of a season: its FIT file, truth and seed."""

    index: int
    path: Path
    truth: RunTruth
    seed: int


def _week_plan(n: int, week: int) -> list[tuple[int, str]]:
    """(weekday, kind) of ``n`` runs in one week: quality on Tuesday, long on Sunday, tempo on Thursday."""
    if n <= 0:
        return []
    days = {
        1: [6],
        2: [1, 6],
        3: [1, 3, 6],
        4: [1, 3, 5, 6],
        5: [0, 1, 3, 5, 6],
        6: [0, 1, 2, 3, 5, 6],
        7: list(range(7)),
    }[n]
    kinds = ["easy"] * n
    kinds[-1] = "long"
    if n >= 2:
        kinds[days.index(1)] = "intervals" if week % 2 == 0 else "hills"
    if n >= 4:
        kinds[days.index(3)] = "tempo"
    return list(zip(days, kinds, strict=True))


def simulate_season(
    out_dir: str | os.PathLike[str],
    *,
    n_runs: int = 60,
    weeks: int = 13,
    seed: int = 0,
    start: datetime = _DEFAULT_SEASON_START,
    balance_left_pct_at_start: float = 50.8,
    trend_pp_per_month: float = -0.3,
    run_to_run_sd_pp: float = 0.15,
    easy_speed_m_s: float = 2.9,
    fitness_gain_per_season: float = 0.03,
    sensor: str = "hrm_pro",
    sensor_change_at_run: int | None = None,
    new_sensor: str = "rd_pod",
    new_sensor_bias_pp: float = 0.0,
    pause_probability: float = 0.3,
    walk_break_probability: float = 0.1,
    base: RunTruth | None = None,
    engine: Engine = "fast",
    arms: Sequence[str | None] | None = None,
    arm_effects_pp: Mapping[str, float] | None = None,
) -> list[Path]:
    """Simulate ``n_runs`` runs over ``weeks`` weeks into ``out_dir``; returns the FIT paths in time order.

    Each run's ``balance_left_pct_at_ref`` is ``balance_left_pct_at_start + trend_pp_per_month x
    months since start + N(0, run_to_run_sd_pp)``; the other model parameters come from ``base``
    (default :class:`RunTruth` defaults). From run index ``sensor_change_at_run`` on, ``new_sensor`` is
    worn with a measurement bias ``new_sensor_bias_pp``. Writes ``<name>.fit`` + ``<name>.truth.json``
    per run and ``season.truth.json`` (all parameters, per-run truth summary); see :func:`read_season`.
    """
    if weeks < 1 or not 1 <= n_runs <= 7 * weeks:
        raise ValueError(
            f"n_runs must be in [1, 7 x weeks] and weeks >= 1, got n_runs={n_runs}, weeks={weeks}"
        )
    for name, value in (("sensor", sensor), ("new_sensor", new_sensor)):
        if value not in SENSORS:
            raise invalid_value_error(name, SENSORS, value)
    if start.tzinfo is None:
        raise ValueError("simulate_season: start must be timezone-aware (UTC)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    template = base if base is not None else RunTruth()
    effects = dict(arm_effects_pp or {})
    if arms is not None and len(arms) != n_runs:
        raise ValueError(f"simulate_season: {len(arms)} arms for {n_runs} runs (one per run, None: no arm)")
    ss = np.random.SeedSequence(seed)
    plan_ss, *run_ss = ss.spawn(n_runs + 1)
    rng = np.random.default_rng(plan_ss)
    per_week = np.full(weeks, n_runs // weeks)
    per_week[rng.choice(weeks, size=n_runs % weeks, replace=False)] += 1
    day0 = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    season_s = weeks * 7 * 86400.0

    schedule: list[tuple[datetime, str]] = []
    for w in range(weeks):
        for weekday, kind in _week_plan(int(per_week[w]), w):
            hour = 8.0 if weekday >= 5 else 6.0
            t = day0 + timedelta(days=7 * w + weekday, seconds=int((hour + rng.uniform(0.0, 1.5)) * 3600))
            schedule.append((t, kind))

    runs: list[SeasonRun] = []
    for i, (t, kind) in enumerate(schedule):
        progress = (t - day0).total_seconds() / season_s
        months = (t - day0).total_seconds() / 86400.0 / DAYS_PER_MONTH
        lo, hi = _DURATION_MIN[kind]
        duration_s = 60.0 * round(float(rng.uniform(lo, hi)))
        warmup_s = 60.0 * (int(rng.integers(5, 9)) if kind in ("easy", "long") else int(rng.integers(10, 16)))
        pauses: list[Pause] = []
        if rng.random() < pause_probability:
            for _ in range(int(rng.integers(1, 3))):
                pauses.append(
                    Pause(float(rng.integers(300, int(duration_s) - 120)), float(rng.integers(15, 91)))
                )
        walk = kind in ("easy", "long") and rng.random() < walk_break_probability
        changed = sensor_change_at_run is not None and i >= sensor_change_at_run
        truth = template.replace(
            start_time=t,
            kind=kind,
            duration_s=duration_s,
            warmup_s=warmup_s,
            easy_speed_m_s=round(
                easy_speed_m_s * (1.0 + fitness_gain_per_season * progress) + float(rng.normal(0.0, 0.05)), 3
            ),
            walk_break_every_s=float(rng.integers(8, 13) * 60) if walk else None,
            pauses=tuple(pauses),
            balance_left_pct_at_ref=round(
                balance_left_pct_at_start
                + trend_pp_per_month * months
                + float(rng.normal(0.0, run_to_run_sd_pp)),
                4,
            ),
            sensor=new_sensor if changed else sensor,
            sensor_balance_bias_pp=new_sensor_bias_pp if changed else template.sensor_balance_bias_pp,
            # a cue's known effect: the run's arm shifts its whole balance by arm_effects_pp[arm]
            balance_run_offset_pp=template.balance_run_offset_pp
            + (effects.get(arms[i] or "", 0.0) if arms is not None else 0.0),
        )
        run_seed = int(run_ss[i].generate_state(1)[0])
        name = f"run_{i:03d}_{t:%Y%m%d}_{kind}.fit"
        path = write_fit(simulate_run(truth, seed=run_seed), out / name, engine=engine)
        runs.append(SeasonRun(index=i, path=path, truth=truth, seed=run_seed))

    params: dict[str, Any] = {
        "n_runs": n_runs,
        "weeks": weeks,
        "seed": seed,
        "start": start.astimezone(UTC).isoformat(),
        "balance_left_pct_at_start": balance_left_pct_at_start,
        "trend_pp_per_month": trend_pp_per_month,
        "days_per_month": DAYS_PER_MONTH,
        "run_to_run_sd_pp": run_to_run_sd_pp,
        "easy_speed_m_s": easy_speed_m_s,
        "fitness_gain_per_season": fitness_gain_per_season,
        "sensor": sensor,
        "sensor_change_at_run": sensor_change_at_run,
        "arms": list(arms) if arms is not None else None,
        "arm_effects_pp": effects,
        "new_sensor": new_sensor,
        "new_sensor_bias_pp": new_sensor_bias_pp,
        "pause_probability": pause_probability,
        "walk_break_probability": walk_break_probability,
    }
    data = {
        "schema": SEASON_TRUTH_SCHEMA,
        "generator": f"stridelab.sim {__version__}",
        "params": params,
        "base_truth": template.to_dict(),
        "runs": [
            {
                "index": r.index,
                "fit_file": r.path.name,
                "truth_file": truth_path(r.path).name,
                "seed": r.seed,
                "kind": r.truth.kind,
                "start_time": r.truth.start_time.isoformat(),
                "sensor": r.truth.sensor,
                "balance_left_pct_at_ref": r.truth.balance_left_pct_at_ref,
                "sensor_balance_bias_pp": r.truth.sensor_balance_bias_pp,
            }
            for r in runs
        ],
    }
    (out / SEASON_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return [r.path for r in runs]


def read_season(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[SeasonRun]]:
    """Read ``season.truth.json`` (or the directory holding it): the season parameters and its runs."""
    p = Path(path)
    if p.is_dir():
        p = p / SEASON_FILE
    data = json.loads(p.read_text(encoding="utf-8"))
    if data.get("schema") != SEASON_TRUTH_SCHEMA:
        raise ValueError(f"{p}: not a stridelab season truth (schema {data.get('schema')!r})")
    runs = []
    for r in data["runs"]:
        fit = p.parent / r["fit_file"]
        truth, seed = read_truth(fit)
        runs.append(SeasonRun(index=int(r["index"]), path=fit, truth=truth, seed=seed))
    return data["params"], runs
