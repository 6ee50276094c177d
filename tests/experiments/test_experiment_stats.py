"""The arm comparison on hand-made blocks: exactness, invariances, thin and bad input."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from stridelab.analysis._experiment_api import BlockValue, compare_arms
from stridelab.analysis._experiment_stats import blocks_needed

T0 = pd.Timestamp(datetime(2026, 3, 2, 7, tzinfo=UTC))


def lap_blocks(
    values: list[list[float]], arms: list[list[str]], speeds: list[list[float]] | None = None
) -> list[BlockValue]:
    out = []
    for r, (vals, arm_row) in enumerate(zip(values, arms, strict=True)):
        for i, (v, a) in enumerate(zip(vals, arm_row, strict=True)):
            sp = speeds[r][i] if speeds else 3.0
            out.append(
                BlockValue(
                    run_id=f"run{r}",
                    run_start=T0 + timedelta(days=r),
                    arm=a,
                    label=f"lap {i + 2}",
                    order_s=600.0 + 330.0 * i,
                    time_h=(600.0 + 330.0 * i) / 3600.0,
                    seconds=320.0,
                    speed_m_s=sp,
                    ref_speed_m_s=3.0,
                    values={"balance": v},
                    slopes={"balance": 0.6},
                )
            )
    return out


def run_blocks(values: list[float], arms: list[str], speeds: list[float] | None = None) -> list[BlockValue]:
    return [
        BlockValue(
            run_id=f"run{i}",
            run_start=T0 + timedelta(days=2 * i),
            arm=a,
            label="run",
            order_s=900.0,
            time_h=0.25,
            seconds=600.0,
            speed_m_s=speeds[i] if speeds else 2.9,
            ref_speed_m_s=2.9,
            values={"balance": v},
            slopes={"balance": 0.6},
        )
        for i, (v, a) in enumerate(zip(values, arms, strict=True))
    ]


ORDER = [["A", "B", "B", "A", "A", "B", "B", "A"], ["B", "A", "A", "B", "B", "A", "A", "B"]]


def test_permutation_p_value_is_exact_and_ci_brackets_the_estimate() -> None:
    rng = np.random.default_rng(0)
    vals = [[50.8 + (0.5 if a == "B" else 0.0) + rng.normal(0, 0.15) for a in row] for row in ORDER]
    c = compare_arms(lap_blocks(vals, ORDER), ("A", "B"), "alternating-laps")
    assert c.n_assignments == 256 and "exact" in c.method
    # the exact p-value is a multiple of 1/256
    assert abs(c.p_value * 256 - round(c.p_value * 256)) < 1e-9
    assert c.ci_low < c.effect < c.ci_high
    assert 0.2 < c.effect < 0.8 and c.p_value <= 2 / 256 + 1e-12
    # brute-force check of the p-value: the effect of every within-pair swap
    y = np.array([v for row in vals for v in row])
    runs = np.repeat([0, 1], 8)
    t = np.tile(np.arange(8) * 330.0 / 3600.0, 2)
    t = t - t.mean()
    w = np.column_stack([(runs == 0).astype(float), (runs == 1).astype(float), t])
    effects = []
    for flips in itertools.product([0, 1], repeat=8):
        z = np.array([1.0 if a == "B" else 0.0 for row in ORDER for a in row])
        for p, f in enumerate(flips):
            if f:
                z[2 * p], z[2 * p + 1] = z[2 * p + 1], z[2 * p]
        beta = np.linalg.lstsq(np.column_stack([w, z]), y, rcond=None)[0]
        effects.append(beta[-1])
    effects = np.abs(np.array(effects))
    assert c.p_value == pytest.approx(np.mean(effects >= abs(c.effect) - 1e-9))


def test_swapping_arm_names_negates_the_effect_and_shift_moves_it() -> None:
    rng = np.random.default_rng(1)
    vals = [[51.0 + rng.normal(0, 0.2) for _ in row] for row in ORDER]
    blocks = lap_blocks(vals, ORDER)
    ab = compare_arms(blocks, ("A", "B"), "alternating-laps")
    ba = compare_arms(blocks, ("B", "A"), "alternating-laps")
    assert ba.effect == pytest.approx(-ab.effect)
    assert ba.ci_low == pytest.approx(-ab.ci_high, abs=1e-6)
    assert ba.p_value == pytest.approx(ab.p_value)
    shifted = [
        [v + (0.7 if a == "B" else 0.0) for v, a in zip(r, o, strict=True)]
        for r, o in zip(vals, ORDER, strict=True)
    ]
    sh = compare_arms(lap_blocks(shifted, ORDER), ("A", "B"), "alternating-laps")
    assert sh.effect == pytest.approx(ab.effect + 0.7)
    assert sh.ci_low == pytest.approx(ab.ci_low + 0.7, abs=1e-6)


def test_an_arm_never_run_is_stated_not_estimated() -> None:
    vals = [[51.0] * 8, [51.0] * 8]
    only_a = [["A"] * 8, ["A"] * 8]
    c = compare_arms(lap_blocks(vals, only_a), ("A", "B"), "alternating-laps")
    assert c.effect is None and c.p_value is None and c.ci_low is None
    assert any("'B' has no usable block" in m for m in c.messages)


def test_runs_holding_one_arm_are_left_out_of_a_within_run_comparison() -> None:
    rng = np.random.default_rng(2)
    arms = [ORDER[0], ["A"] * 8]
    vals = [[51.0 + rng.normal(0, 0.2) for _ in r] for r in arms]
    c = compare_arms(lap_blocks(vals, arms), ("A", "B"), "alternating-laps")
    assert c.n_runs == 1 and c.n_blocks == 8
    assert any("only one arm" in m for m in c.messages)
    # 4 pairs: 16 assignments cannot reach p < 0.05: model-based interval, said so
    assert "too few blocks" in c.method and c.p_value is not None
    assert c.n_blocks_needed is not None and c.n_blocks_needed >= 12


def test_unequal_counts_and_different_paces_are_stated() -> None:
    rng = np.random.default_rng(3)
    arms = ["A", "B"] * 6 + ["A", "A"]
    speeds = [2.8 if a == "A" else 3.2 for a in arms]
    speeds[-1] = 4.0
    vals = [50.8 + rng.normal(0, 0.2) for _ in arms]
    c = compare_arms(run_blocks(vals, arms, speeds), ("A", "B"), "alternating-runs")
    text = " ".join(c.messages)
    assert "unequal block counts" in text
    assert "different paces" in text
    assert "off the median pace" in text
    assert c.effect is not None and c.ci_low is not None and c.ci_low < c.ci_high


def test_before_after_is_model_based_and_flagged_observational() -> None:
    rng = np.random.default_rng(4)
    arms = ["A"] * 8 + ["B"] * 8
    vals = [50.8 + 0.8 * (a == "B") + rng.normal(0, 0.1) for a in arms]
    c = compare_arms(run_blocks(vals, arms), ("A", "B"), "before-after", loads_km=list(rng.normal(30, 5, 16)))
    assert "HAC" in c.method and c.p_value is not None
    assert any("observational" in m for m in c.messages)
    assert c.ci_low < 0.8 < c.ci_high


def test_invalid_design_and_blocks_needed() -> None:
    with pytest.raises(ValueError, match="Invalid value for the 'design' parameter"):
        compare_arms([], ("A", "B"), "crossover")
    # 4 * ((1.96 + 0.84) * 0.3 / 0.5)^2 = 11.3 -> the next even number
    assert blocks_needed(0.3, 0.5) == 12
    assert blocks_needed(0.6, 0.3) > blocks_needed(0.3, 0.3)  # more noise, more blocks
    assert blocks_needed(0.3, 0.1) > blocks_needed(0.3, 0.5)  # smaller effect, more blocks


def test_blocks_of_four_follow_the_protocol_and_deviations_are_stated() -> None:
    rng = np.random.default_rng(6)
    arms = ["A", "B", "B", "A", "B", "A", "A", "B", "A", "A", "B", "B"]
    vals = [50.8 + rng.normal(0, 0.2) for _ in arms]
    c = compare_arms(run_blocks(vals, arms), ("A", "B"), "alternating-runs", randomisation_block=4)
    assert c.n_assignments == 6**3 and "blocks of 4" in c.method
    assert not any("does not follow" in m for m in c.messages)
    # the runner swapped two runs: the 4-run groups are no longer balanced
    swapped = ["A", "A", "A", "B", "B", "B", *arms[6:]]
    c2 = compare_arms(run_blocks(vals, swapped), ("A", "B"), "alternating-runs", randomisation_block=4)
    assert any("does not follow the protocol" in m for m in c2.messages)
    assert c2.n_assignments == 924  # relabelling 6 of 12 runs
