"""Fixtures of the analysis tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from _simstore import activity_from_sim
from stridelab.sim import RunTruth, simulate_run
from stridelab.store import Store


@pytest.fixture
def sim_store(tmp_path: Path) -> Callable[..., tuple[Store, list[tuple[str, RunTruth]]]]:
    """Factory: a real store in tmp_path holding simulated runs ``[(id, truth), ...]``."""

    def make(
        truths: list[RunTruth], seed: int = 0, athlete: str = "me"
    ) -> tuple[Store, list[tuple[str, RunTruth]]]:
        store = Store.open(tmp_path / "s")
        out = []
        for i, truth in enumerate(truths):
            run = simulate_run(truth, seed=seed + i)
            act = activity_from_sim(run, f"{seed}-{i}-{truth.start_time.isoformat()}")
            store.add_activity(athlete, act)
            out.append((act.id, truth))
        return store, out

    return make
