"""Shared fixtures: the ../shared/data corpus and a fresh store per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO_ROOT = Path(__file__).resolve().parents[1]


# Hypothesis: no wall-clock limits in the suite. Its default ``deadline`` (200 ms per example) and the
# ``too_slow`` health check are timing assertions that fail on a loaded machine; speed lives in bench/.
# Under CI (``.ci/run`` sets CI=true) the examples are also derandomised (seeded from each test's own
# code, no example database) so a run is reproducible; locally they stay random to keep exploring.
# Explicit ``@settings(...)`` on a test override only the options they name (e.g. ``max_examples``).
# Choose one by name with HYPOTHESIS_PROFILE=ci|dev.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
    print_blob=True,
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI", "").lower() == "true" else "dev")
)


def _shared_data_dir() -> Path:
    return Path(os.environ.get("STRIDELAB_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared corpora (FIT files, IMU recordings). Fails loudly in CI when missing."""
    path = _shared_data_dir()
    if not path.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data directory {path} is missing (set STRIDELAB_SHARED_DATA)")
        pytest.skip(f"shared data directory {path} is missing (set STRIDELAB_SHARED_DATA)")
    return path


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A fresh, empty store location in a temp dir (a real SQLite + Parquet store once opened)."""
    return tmp_path / "store"
