"""Issue 15: the faster IMU pipeline gives the results of the code before it (main at d8e814a, the
``ahrs`` filter run once per stage): event times within 1 ms, metrics within 0.1 %, on the shared real
recordings and on simulated ones. The reference was written by ``tests/gait/_imu_equivalence.py`` run
against that code (see its docstring)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import _imu_equivalence as eq
import pytest

SNAPSHOT = Path(__file__).resolve().parents[1] / "data" / "imu_results_d8e814a.json"
EVENT_TOL_S = 1e-3
METRIC_REL = 1e-3


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def _events(got: list[list[Any]], ref: list[list[Any]], where: str) -> None:
    assert len(got) == len(ref), f"{where}: {len(got)} events, reference {len(ref)}"
    for (t, side, kind), (rt, rside, rkind) in zip(got, ref, strict=True):
        assert (side, kind) == (rside, rkind), where
        assert abs(t - rt) <= EVENT_TOL_S, f"{where}: {kind} at {t:.4f} s, reference {rt:.4f} s"


def _values(got: Any, ref: Any, where: str) -> None:
    if isinstance(ref, dict):
        assert set(got) == set(ref), where
        for k in ref:
            _values(got[k], ref[k], f"{where}/{k}")
    elif isinstance(ref, list):
        assert len(got) == len(ref), where
        for i, (g, r) in enumerate(zip(got, ref, strict=True)):
            _values(g, r, f"{where}[{i}]")
    elif isinstance(ref, float):
        assert eq.close(float(got), ref, rel=METRIC_REL), f"{where}: {got} vs reference {ref}"
    else:
        assert got == ref, where


def _check(got: dict[str, Any], ref: dict[str, Any], where: str) -> None:
    for key in ref:
        if key == "events":
            _events(got[key], ref[key], f"{where}/events")
        else:
            _values(got[key], ref[key], f"{where}/{key}")


def test_gaitmap_feet_match_the_reference(shared_data, reference):
    got = eq.gaitmap_feet(shared_data / "imu")
    for side in ("left", "right"):
        _check(got[side], reference["gaitmap"][side], f"gaitmap/{side}")


def test_mobgap_lower_back_matches_the_reference(shared_data, reference):
    _check(eq.mobgap_lower_back(shared_data / "imu"), reference["mobgap"], "mobgap")


@pytest.mark.parametrize("name", sorted(eq.SIMULATED))
def test_simulated_analysis_matches_the_reference(reference, name):
    got = eq.simulated(name)
    ref = reference[name]
    assert got["problems"] == ref["problems"]
    assert not any(isinstance(v, float) and math.isnan(v) for v in [got["summary"]["n_strides"]])
    _check(
        {k: v for k, v in got.items() if k != "problems"},
        {k: v for k, v in ref.items() if k != "problems"},
        name,
    )
