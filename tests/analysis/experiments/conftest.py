"""Fixtures of the experiment tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from stridelab.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh real store (SQLite + Parquet) in tmp_path."""
    return Store.open(tmp_path / "s")
