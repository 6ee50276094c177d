"""Shared fixtures: the ../shared/data corpus and a fresh store per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


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
