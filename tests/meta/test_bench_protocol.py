"""bench/run_all.py: discovery by ``rows()``, the row protocol, one table, failures reported (a real
child process per benchmark; fake benchmarks in a temporary folder, nothing timed)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import run_all  # noqa: E402  (bench/ is not a package)


def test_every_rows_function_takes_quick() -> None:
    found, _without = run_all.discover()
    names = {run_all.name_of(p) for p in found}
    assert {"commands_speed", "speed_checks", "validate_trends", "dashboard"} <= names
    for path in found:
        fn = next(
            n for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef) and n.name == "rows"
        )
        args = [a.arg for a in fn.args.args]
        assert args == ["quick"] and len(fn.args.defaults) == 1, path.name


def test_rows_are_checked_against_the_protocol() -> None:
    good = [{"figure": "f", "goal": "<= 1 s", "measured": "0.5 s", "peer_ratio": 0.4, "met": True}]
    assert run_all.check_rows(good) == good
    with pytest.raises(ValueError, match="lacks peer_ratio"):
        run_all.check_rows([{"figure": "f", "goal": "g", "measured": "m", "met": True}])
    with pytest.raises(ValueError, match="not a bool"):
        run_all.check_rows([{**good[0], "met": "yes"}])
    with pytest.raises(ValueError, match="not a list"):
        run_all.check_rows({"figure": "f"})


_FAKE = """
def rows(quick: bool = False) -> list[dict]:
    print("fake running, quick =", quick)
    return [
        {"figure": "fast thing", "goal": "<= 1 s", "measured": "0.2 s", "peer_ratio": 0.5, "peer": "a peer",
         "met": True},
        {"figure": "slow thing" + (" (quick)" if quick else ""), "goal": "<= 1 s", "measured": "3 s",
         "peer_ratio": None, "met": False},
    ]
"""


def test_run_all_prints_one_table_and_reports_failures(tmp_path: Path) -> None:
    (tmp_path / "fake.py").write_text(_FAKE)
    broken = "def rows(quick: bool = False):\n    raise RuntimeError('no data here')\n"
    (tmp_path / "broken.py").write_text(broken)
    (tmp_path / "helper.py").write_text("X = 1\n")  # no rows(): listed, not run
    sub = tmp_path / "group"
    sub.mkdir()
    (sub / "nested.py").write_text(_FAKE)
    out_json = tmp_path / "rows.json"
    argv = [sys.executable, str(BENCH / "run_all.py"), "--dir", str(tmp_path), "--quick"]
    proc = subprocess.run(
        [*argv, "--json", str(out_json)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1  # a goal is not met
    out = proc.stdout
    assert "fake running, quick = True" in out  # the benchmark's own output stays visible
    table = out[out.index("benchmark  ") :]
    assert "fast thing" in table and "0.50x" in table and "slow thing (quick)" in table
    assert "group/nested" in table
    assert "(the benchmark failed)" in table and "no data here" in table
    assert "2 of 5 goals met" in table
    assert "not run (no rows()): helper" in out
    rows = json.loads(out_json.read_text())
    assert [r["benchmark"] for r in rows] == ["broken", "fake", "fake", "group/nested", "group/nested"]
    listing = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--dir", str(tmp_path), "--list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert "fake" in listing and "helper  (no rows(): not run)" in listing
