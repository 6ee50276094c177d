"""Issue 19 part 8: the fault suite's CI slice (``bench/fault_suite.py --quick`` runs the rest).

10,000 mutated FIT inputs read the way ``stridelab import`` reads them raise nothing but the reader's
documented errors, and two kill -9 trials over an import (the whole process group, then the parent
alone) lose and duplicate nothing and leave no orphan behind. Seeded and bounded; the full run
(100,000 inputs, 20 trials, disk full, read-only store, concurrent writers) is the benchmark's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import fault_suite


def test_fuzz_slice_raises_only_documented_errors(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fault_suite, "DATA", shared_data)
    got = fault_suite.fuzz(10_000, seed=0, quick=True)
    assert got["corpus"] >= 20 and sum(got["kinds"].values()) == 10_000
    assert got["unexpected"] == 0, got["examples"]


def test_kill_trials_lose_and_duplicate_nothing_and_leave_no_orphans(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fault_suite, "DATA", shared_data)
    got = fault_suite.kill_trials(2, seed=0, root=tmp_path, quick=True)
    assert got["lost"] == got["duplicated"] == got["unreadable"] == 0, got
    assert got["orphan_trials"] == 1 and got["orphans_late"] == 0, got


def test_live_kill_trials_lose_nothing_before_the_last_fsync(tmp_path: Path) -> None:
    got = fault_suite.live_kill_trials(2, seed=0, root=tmp_path)
    assert got["killed"] == 2 and got["batches"] > 0, got
    assert got["lost"] == got["corrupt"] == got["unreadable"] == 0, got
