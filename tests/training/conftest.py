"""Fixtures of the training tests: a real store in tmp_path and crafted runs (no FIT files needed)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stridelab.model import Activity
from stridelab.store import Store

AddRun = Callable[..., Activity]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh real store (SQLite catalog + Parquet streams)."""
    s = Store.open(tmp_path / "s")
    yield s
    s.close()


def make_run(
    day: date,
    distance_m: float,
    duration_s: float,
    *,
    balance_left_pct: float | None = None,
    gct_s: float | None = None,
    sport: str = "running",
    hour: int = 7,
) -> Activity:
    """A synthetic activity: 60 records over ``duration_s`` with optional constant dynamics."""
    start = pd.Timestamp(datetime.combine(day, time(hour)), tz="UTC")
    key = f"{day.isoformat()}-{hour}-{distance_m}-{duration_s}-{sport}-{balance_left_pct}-{gct_s}"
    n = 60
    t = np.linspace(0.0, duration_s, n)
    records = pd.DataFrame(
        {
            "elapsed_s": t,
            "timer_s": t,
            "paused": np.zeros(n, dtype=bool),
            "session_index": np.zeros(n, dtype="int64"),
            "lap_index": np.zeros(n, dtype="int64"),
            "distance_m": np.linspace(0.0, distance_m, n),
        },
        index=pd.DatetimeIndex(start + pd.to_timedelta(t, unit="s"), name="time"),
    )
    if balance_left_pct is not None:
        records["stance_time_balance_left_pct"] = np.full(n, balance_left_pct)
    if gct_s is not None:
        records["stance_time_s"] = np.full(n, gct_s)
    return Activity(
        id=hashlib.sha256(key.encode()).hexdigest(),
        source_path=None,
        format="synthetic",
        start_time=start,
        duration_s=duration_s,
        elapsed_s=duration_s,
        distance_m=distance_m,
        sport=sport,
        sub_sport=None,
        records=records,
    )


@pytest.fixture
def add_run(store: Store) -> AddRun:
    """``add_run(day, distance_m, duration_s, **kw)`` stores a crafted run for athlete 'me'."""

    def _add(day: date, distance_m: float, duration_s: float, **kw: object) -> Activity:
        act = make_run(day, distance_m, duration_s, **kw)  # type: ignore[arg-type]
        assert store.add_activity("me", act)
        return act

    return _add


@pytest.fixture
def add_run_at() -> Callable[..., Activity]:
    """``add_run_at(store_path, day, distance_m, duration_s, **kw)``: a crafted run in the store at a path."""

    def _add(path: Path, day: date, distance_m: float, duration_s: float, **kw: object) -> Activity:
        s = Store.open(path)
        try:
            act = make_run(day, distance_m, duration_s, **kw)  # type: ignore[arg-type]
            assert s.add_activity("me", act)
        finally:
            s.close()
        return act

    return _add
