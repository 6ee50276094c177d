"""Issue 19 part 7: the package's licence and declared dependency floors (``.ci/run`` builds the wheel
and sdist, installs the wheel in a fresh venv and runs the demo, and runs tests at the floors)."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_license_file_is_the_mit_licence_pyproject_declares() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["license"] == {"text": "MIT"}
    assert text.startswith("MIT License\n")
    assert re.search(r"Copyright \(c\) \d{4} stridelab developers", text)
    assert "WITHOUT WARRANTY OF ANY KIND" in text


def test_every_dependency_has_a_floor_that_ci_installs() -> None:
    spec = importlib.util.spec_from_file_location("min_constraints", ROOT / ".ci" / "min_constraints.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pins = module.lower_bounds(ROOT / "pyproject.toml")
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert len(pins) == len(deps)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==[0-9][0-9A-Za-z.]*", p) for p in pins), pins
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for step in ("-m build", "min_constraints.py", '/bin/stridelab" demo', "min_tests"):
        assert step in ci, step
