"""The arm comparison on hand-made blocks: exactness, invariances, thin and bad input."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from stridelab.analysis import BlockValue, compare_arms
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
    assert any("arm 'B' has no usable block" in m for m in c.messages)
    none = compare_arms([], ("A", "B"), "alternating-runs")
    assert none.effect is None and none.p_value is None and none.n_blocks == 0
    assert any("arms 'A' and 'B' have no usable block yet" in m for m in none.messages)


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


def _with_slots(blocks: list[BlockValue], slots: list[int]) -> list[BlockValue]:
    return [dataclasses.replace(b, slot=s) for b, s in zip(blocks, slots, strict=True)]


def _protocol_orders(n_pairs: int) -> list[list[str]]:
    """Every arm order the alternating-laps protocol can draw for one run (A/B random within pairs)."""
    return [
        [a for f in flips for a in (("B", "A") if f else ("A", "B"))]
        for flips in itertools.product([0, 1], repeat=n_pairs)
    ]


def test_the_test_is_exact_over_every_order_the_protocol_can_draw() -> None:
    """Under no effect the data are fixed whatever the order; the test may reject for at most 5 % of
    the orders the protocol draws from (equally likely). Counted over all of them: no Monte Carlo error.
    A p-value that left the observed order out of its reference set, or broke ties in its favour,
    would reject for 8/128 = 6.25 % of the orders and fail here."""
    rng = np.random.default_rng(11)
    # one run of 6 pairs: 64 orders (p can reach 2/64 < 0.05)
    vals = [[50.8 + rng.normal(0, 0.3) + 0.1 * i for i in range(12)]]
    orders = _protocol_orders(6)
    ps, sizes = [], []
    for order in orders:
        c = compare_arms(lap_blocks(vals, [order]), ("A", "B"), "alternating-laps")
        assert c.n_assignments == 64 and "exact" in c.method
        ps.append(c.p_value)
        sizes.append(c.attained_alpha)
    rejections = float(np.mean(np.array(ps) < 0.05))
    assert rejections <= 0.05
    # the reported exact size is that same share, for every observed order
    assert sizes == pytest.approx([rejections] * len(orders))
    # discreteness: p-values are multiples of 2/64 (mirror orders tie), so the size is 2/64
    assert rejections == pytest.approx(2 / 64)


def test_a_dropped_block_keeps_the_protocols_pairs_and_its_partner_is_held_fixed() -> None:
    """Laps 2-9 tagged, lap 5 (slot 3) lost: the pairs are still (2,3), (4,-), (6,7), (8,9). Pairing
    consecutive survivors would test (4,6) and (7,8), orders the protocol never drew."""
    rng = np.random.default_rng(12)
    order = [["A", "B", "B", "A", "A", "B", "B", "A"], ["B", "A", "A", "B", "B", "A", "A", "B"]]
    vals = [[50.8 + rng.normal(0, 0.2) for _ in r] for r in order]
    blocks = _with_slots(lap_blocks(vals, order), list(range(8)) * 2)
    dropped = [b for i, b in enumerate(blocks) if i != 3]  # run0, slot 3
    c = compare_arms(dropped, ("A", "B"), "alternating-laps")
    assert c.n_assignments == 2**7 and "within pairs" in c.method
    assert any("held at their arm" in m for m in c.messages)
    assert not any("does not follow" in m for m in c.messages)
    # brute force over the protocol's pairs with slot 2 of run 0 fixed
    y = np.array([b.values["balance"] for b in dropped])
    run = np.array([b.run_id == "run1" for b in dropped], dtype=float)
    t = np.array([b.time_h for b in dropped])
    for r in (0.0, 1.0):
        t[run == r] -= t[run == r].mean()
    w = np.column_stack([1 - run, run, t])
    z0 = np.array([1.0 if b.arm == "B" else 0.0 for b in dropped])
    pairs = [(0, 1), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14)]  # index 2 (slot 2) is fixed
    effects = []
    for flips in itertools.product([0, 1], repeat=len(pairs)):
        z = z0.copy()
        for (i, j), f in zip(pairs, flips, strict=True):
            if f:
                z[i], z[j] = z[j], z[i]
        effects.append(np.linalg.lstsq(np.column_stack([w, z]), y, rcond=None)[0][-1])
    assert c.p_value == pytest.approx(np.mean(np.abs(effects) >= abs(c.effect) - 1e-9))
    assert c.attained_alpha is not None and c.attained_alpha <= 0.05


def test_slots_count_from_the_first_tagged_lap_or_the_range_starts() -> None:
    from stridelab.analysis._experiment_blocks import BlockSpec, _slots

    timer = np.arange(3000.0)
    member = np.zeros((3, timer.size), dtype=bool)
    laps = [
        BlockSpec("A", "lap 2", lap_index=1),
        BlockSpec("B", "lap 4", lap_index=3),
        BlockSpec("B", "lap 3", lap_index=2),
    ]
    assert _slots(laps, member, timer) == [0, 2, 1]
    ranges = [BlockSpec("A", "r", from_s=1200.0, to_s=1800.0), BlockSpec("B", "r", from_s=600.0, to_s=1200.0)]
    assert _slots(ranges, member[:2], timer) == [1, 0]
    assert _slots([BlockSpec("A", "run")], member[:1], timer) == [None]


def test_a_run_left_out_keeps_the_groups_of_four_aligned() -> None:
    """12 runs in groups of 4 (2 + 2); run 2 (slot 1) has no usable data. Grouping the 11 survivors
    consecutively would mix groups and fall back to relabelling all runs; the protocol's groups keep
    runs 5-8 and 9-12 as they were drawn and hold runs 1, 3, 4 at their arms."""
    rng = np.random.default_rng(13)
    arms = ["A", "B", "B", "A", "B", "A", "A", "B", "A", "B", "A", "B"]
    vals = [50.8 + rng.normal(0, 0.2) for _ in arms]
    blocks = _with_slots(run_blocks(vals, arms), list(range(12)))
    kept = [b for i, b in enumerate(blocks) if i != 1]
    c = compare_arms(kept, ("A", "B"), "alternating-runs", randomisation_block=4)
    assert c.n_assignments == 6**2 and "blocks of 4" in c.method
    assert any("3 block(s) whose randomisation group of 4 lost a member" in m for m in c.messages)
    assert not any("does not follow" in m for m in c.messages)
    assert c.attained_alpha is not None and c.attained_alpha <= 0.05
    assert c.p_value is not None and abs(c.p_value * 36 - round(c.p_value * 36)) < 1e-9
    # without slots (hand-made blocks of unknown position) the old consecutive rule still applies
    plain = compare_arms(
        [dataclasses.replace(b, slot=None) for b in kept],
        ("A", "B"),
        "alternating-runs",
        randomisation_block=4,
    )
    assert plain.n_assignments != 6**2
