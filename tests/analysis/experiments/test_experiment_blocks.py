"""Block extraction against the synthetic runner's known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
from _exp_helpers import lap_run_truth
from hypothesis import given
from hypothesis import strategies as st

from stridelab.analysis import BlockSpec, extract_blocks, format_clock, parse_clock, parse_laps
from stridelab.sim import simulate_run


def _laps(run: object) -> pd.DataFrame:
    return pd.DataFrame([{"lap_index": lap.index, "intensity": lap.intensity} for lap in run.laps])  # type: ignore[attr-defined]


def test_pace_adjusted_block_values_recover_the_cue_offset_at_different_paces() -> None:
    order = [0, 1] * 4
    # arm B laps are run faster: raw means mix pace (0.6 pp per m/s) into the cue effect
    speeds = [2.8 if a == 0 else 3.4 for a in order]
    truth = lap_run_truth(order, 0.5, 0, speeds=speeds)
    truth = truth.replace(balance_drift_pp_per_h=0.0, balance_noise_sd_pp=0.3)
    run = simulate_run(truth, seed=3)
    specs = [BlockSpec("AB"[a], f"lap {i + 2}", lap_index=i + 1) for i, a in enumerate(order)]
    blocks, messages = extract_blocks(run.records, _laps(run), specs, run_id="r", run_start=run.start_time)
    assert messages == [] and len(blocks) == 8
    adj = {arm: np.mean([b.values["balance"] for b in blocks if b.arm == arm]) for arm in "AB"}
    raw = {arm: np.mean([b.raw["balance"] for b in blocks if b.arm == arm]) for arm in "AB"}
    assert abs((adj["B"] - adj["A"]) - 0.5) < 0.12
    assert (raw["B"] - raw["A"]) - 0.5 > 0.25  # the raw difference carries ~0.36 pp of pace
    slope = blocks[0].slopes["balance"]
    assert 0.3 < slope < 0.9  # the simulated 0.6 pp per m/s
    assert {"gct", "vo", "cadence"} <= set(blocks[0].values)
    # faster -> shorter ground contact (the raw GCT means) in the B laps
    assert np.mean([b.raw["gct"] for b in blocks if b.arm == "B"]) < np.mean(
        [b.raw["gct"] for b in blocks if b.arm == "A"]
    )


def test_blocks_without_clean_running_or_overlapping_are_stated() -> None:
    run = simulate_run(lap_run_truth([0, 1], 0.0, 0), seed=1)
    specs = [
        BlockSpec("A", "lap 9", lap_index=8),  # no such lap
        BlockSpec("A", "0:00-1:00", from_s=0.0, to_s=60.0),  # warm-up only
        BlockSpec("B", "lap 2", lap_index=1),
        BlockSpec("A", "12:00-13:00", from_s=720.0, to_s=780.0),  # inside lap 2
    ]
    blocks, messages = extract_blocks(
        run.records, _laps(run), specs, run_id="abcdef12", run_start=run.start_time
    )
    text = " ".join(messages)
    assert "lap 9 (A): not in the run" in text
    assert "0:00-1:00 (A): only" in text
    assert "belong to two tagged blocks" in text
    assert [b.label for b in blocks] == ["lap 2"]


def test_no_dynamics_gives_no_blocks_and_says_so() -> None:
    run = simulate_run(lap_run_truth([0, 1], 0.0, 0, sensor="none"), seed=1)
    blocks, messages = extract_blocks(
        run.records,
        _laps(run),
        [BlockSpec("A", "lap 2", lap_index=1)],
        run_id="abcdef12",
        run_start=run.start_time,
    )
    assert blocks == [] and "no GCT balance" in messages[0]


@given(st.integers(min_value=0, max_value=20 * 3600))
def test_clock_round_trip(seconds: int) -> None:
    assert parse_clock(format_clock(seconds)) == seconds


@given(st.sets(st.integers(min_value=1, max_value=60), min_size=1, max_size=20))
def test_lap_lists_round_trip(numbers: set[int]) -> None:
    assert parse_laps(",".join(map(str, sorted(numbers)))) == sorted(n - 1 for n in numbers)
