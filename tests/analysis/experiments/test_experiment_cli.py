"""Experiments end to end: real store, simulated runs, the CLI contract."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from _exp_helpers import START, lap_run_truth, store_runs
from typer.testing import CliRunner

from _simstore import HRM_PRO, activity_from_sim
from stridelab.cli import app
from stridelab.services.experiments import analyze_experiment, create_experiment, experiment_overview
from stridelab.sim import RunTruth, simulate_run
from stridelab.store import Store

runner = CliRunner()


def cli(store_dir: Path, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr (whitespace normalised: Rich wraps long messages)."""
    res = runner.invoke(app, [*args, "--store", str(store_dir)])
    return res.exit_code, res.stdout, " ".join(res.stderr.split())


def laps_of(order: list[int], arm: int) -> str:
    return ",".join(str(i + 2) for i, a in enumerate(order) if a == arm)


def test_contract_alternating_laps_recovers_the_cue_effect(tmp_path: Path) -> None:
    sdir = tmp_path / "s"
    store = Store.open(sdir)
    code, out, _ = cli(
        sdir,
        "experiment",
        "create",
        "push vs pull",
        "--arms",
        "pull-up,push-behind",
        "--design",
        "alternating-laps",
        "--tag-key",
        "cue",
        "--seed",
        "42",
    )
    assert code == 0, out
    assert "randomised" in out and "seed 42" in out and "stridelab tag RUN_ID cue=pull-up --lap" in out
    # the runner follows the printed, randomised order
    proto = json.loads(cli(sdir, "experiment", "protocol", "push vs pull", "--json")[1])["protocol"]
    orders = [[int(arm == "push-behind") for arm in order] for order in proto["orders"]]
    # arm B (push-behind) lowers the left share by 0.9 pp
    ids = store_runs(store, [lap_run_truth(o, -0.9, 3 * i) for i, o in enumerate(orders)], seed=5)
    for rid, order in zip(ids, orders, strict=True):
        assert cli(sdir, "tag", rid[:10], "cue=pull-up", "--lap", laps_of(order, 0))[0] == 0
        assert cli(sdir, "tag", rid[:10], "cue=push-behind", "--lap", laps_of(order, 1))[0] == 0
    code, out, err = cli(sdir, "experiment", "analyze", "push vs pull", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert {"effect_pp", "ci_low", "ci_high", "p_value", "n_blocks", "method"} <= set(d)
    assert d["n_blocks"] == 16
    assert d["ci_low"] < -0.9 < d["ci_high"]
    assert d["ci_high"] < 0 and d["p_value"] < 0.05
    assert "randomisation test" in d["method"]
    assert d["summary"].startswith("push-behind lowered your left share by 0.9 pp (95 % CI")
    assert set(d["metrics"]) == {"balance", "gct", "vo", "cadence"}
    # human output and the protocol/list commands
    code, out, _ = cli(sdir, "experiment", "analyze", "push vs pull")
    assert code == 0 and "push-behind lowered your left share" in out
    code, out, _ = cli(sdir, "experiment", "list", "--json")
    rows = json.loads(out)
    assert rows[0]["tagged_blocks"] == {"pull-up": 8, "push-behind": 8} and rows[0]["planned_blocks"] == 16
    code, out, _ = cli(sdir, "experiment", "protocol", "push vs pull")
    assert code == 0 and "seed 42" in out
    # the same seed gives the same protocol
    again = create_experiment(
        store, "other", "push vs pull", ("pull-up", "push-behind"), "alternating-laps", seed=42
    )
    d2 = json.loads(cli(sdir, "experiment", "protocol", "push vs pull", "--json")[1])
    assert d2["protocol"]["orders"] == again.protocol["orders"]


def test_tag_list_and_remove_via_cli(tmp_path: Path) -> None:
    sdir = tmp_path / "s"
    (rid,) = store_runs(Store.open(sdir), [lap_run_truth([0, 1, 0, 1], 0.0, 0)])
    assert cli(sdir, "tag", rid[:8], "cue=push-behind", "--lap", "1,3")[0] == 0
    assert cli(sdir, "tag", rid[:8], "cue=pull-up", "--from", "10:00", "--to", "20:00")[0] == 0
    code, out, _ = cli(sdir, "tag", rid[:8], "--list", "--json")
    listed = json.loads(out)
    assert sorted(t["label"] for t in listed) == [
        "cue=pull-up@10:00-20:00",
        "cue=push-behind@lap1",
        "cue=push-behind@lap3",
    ]
    code, out, _ = cli(sdir, "tags", "--key", "cue", "--json")
    assert len(json.loads(out)) == 3
    code, out, _ = cli(sdir, "tag", rid[:8], "cue=push-behind", "--remove", "--lap", "3", "--json")
    assert json.loads(out) == {"removed": 1}
    # tags are shown wherever runs are: analyze, trend rows, baseline rows (JSON and tables)
    want = ["cue=pull-up@10:00-20:00", "cue=push-behind@lap1"]
    code, out, _ = cli(sdir, "analyze", rid[:8], "--json")
    assert code == 0 and json.loads(out)["tags"] == want
    code, out, _ = cli(sdir, "analyze", rid[:8])
    assert code == 0 and "cue=push-behind@lap1" in out
    code, out, _ = cli(sdir, "trend", "--json")
    assert code == 0 and json.loads(out)[0]["tags"] == want
    code, out, _ = cli(sdir, "baseline", "--json")
    assert code == 0 and json.loads(out)[0]["tags"] == want
    code, out, err = cli(sdir, "tag", rid[:8], "cue=x", "--lap", "9")
    assert code == 2 and "has 5 lap(s)" in err
    code, out, err = cli(sdir, "tag", "abcd", "cue=x")
    assert code == 2 and "No run" in err


def test_bad_experiments_are_stated_clearly(tmp_path: Path) -> None:
    sdir = tmp_path / "s"
    store = Store.open(sdir)
    (rid, nodyn) = store_runs(
        store, [lap_run_truth([0, 1, 0, 1], 0.0, 0), lap_run_truth([0, 1, 0, 1], 0.0, 1, sensor="none")]
    )
    code, _, err = cli(sdir, "experiment", "create", "x", "--arms", "a", "--design", "alternating-laps")
    assert code == 2 and "exactly two arms" in err
    code, _, err = cli(sdir, "experiment", "create", "x", "--arms", "a,b", "--design", "crossover")
    assert code == 2 and "Allowed values are 'alternating-laps'" in err
    assert cli(sdir, "experiment", "create", "x", "--arms", "a,b")[0] == 0
    code, _, err = cli(sdir, "experiment", "create", "x", "--arms", "a,b")
    assert code == 2 and "already exists" in err
    code, _, err = cli(sdir, "experiment", "analyze", "nope")
    assert code == 2 and "No experiment named 'nope'" in err
    # only arm a ever run
    cli(sdir, "tag", rid[:8], "cue=a", "--lap", "2,3")
    d = json.loads(cli(sdir, "experiment", "analyze", "x", "--json")[1])
    assert d["effect_pp"] is None and d["p_value"] is None
    assert any("'b' has no usable block" in m for m in d["messages"])
    # a run without dynamics: the tag is kept with a warning, the analysis says it was left out
    code, _, err = cli(sdir, "tag", nodyn[:8], "cue=b", "--lap", "2")
    assert code == 0 and "no running dynamics" in err
    d = json.loads(cli(sdir, "experiment", "analyze", "x", "--json")[1])
    assert any("no GCT balance" in m for m in d["messages"])
    assert d["effect_pp"] is None


def test_alternating_runs_and_before_after_from_the_store(store: Store) -> None:
    exp = create_experiment(store, "me", "runs", "a,b", "alternating-runs", seed=1)
    order = exp.protocol["order"]  # the runner follows the printed, randomised order
    assert len(order) == 12 and exp.protocol["randomisation_block"] == 4
    assert all(sorted(order[i : i + 4]) == ["a", "a", "b", "b"] for i in range(0, 12, 4))
    rng = np.random.default_rng(3)
    truths = [
        RunTruth(
            kind="easy",
            duration_s=900.0,
            warmup_s=300.0,
            start_time=START + timedelta(days=2 * i),
            balance_left_pct_at_ref=50.8 + 0.8 * (arm == "b") + float(rng.normal(0, 0.1)),
        )
        for i, arm in enumerate(order)
    ]
    ids = store_runs(store, truths, seed=20)
    from stridelab.services.experiments import add_tags

    for rid, arm in zip(ids, order, strict=True):
        add_tags(store, "me", rid, [("cue", arm)])
    res = analyze_experiment(store, "me", "runs")
    d = res.to_dict()
    assert d["n_blocks"] == 12 and "randomisation test" in d["method"] and "blocks of 4" in d["method"]
    assert not any("does not follow" in m for m in d["messages"])
    assert d["ci_low"] < 0.8 < d["ci_high"] and d["ci_low"] > 0
    # before-after by date: runs before day 12 are "a", after "b"; a ride in the window is not a run
    ride = activity_from_sim(simulate_run(truths[0], seed=99), "ride", HRM_PRO)
    store.add_activity("me", dataclasses.replace(ride, sport="cycling"))
    create_experiment(
        store, "me", "strength", "before,after", "before-after", change_date="2026-03-14", window_days=30
    )
    ba = analyze_experiment(store, "me", "strength").to_dict()
    assert ba["n_blocks"] == 12 and "HAC" in ba["method"]
    assert any("observational" in m for m in ba["messages"])
    overview = {r["name"]: r for r in experiment_overview(store, "me")}
    assert overview["runs"]["tagged_blocks"] == {"a": 6, "b": 6}


@pytest.mark.parametrize("design", ["alternating-laps", "alternating-runs", "before-after"])
def test_protocols_are_seeded_and_stated(store: Store, design: str) -> None:
    e1 = create_experiment(store, "me", "e1", "a,b", design, seed=7)
    e2 = create_experiment(store, "me", "e2", "a,b", design, seed=7)
    assert e1.protocol == e2.protocol
    if design != "before-after":
        e3 = create_experiment(store, "me", "e3", "a,b", design, seed=8)
        assert e3.protocol != e1.protocol
