"""Where the benchmarks find the shared real data: ``$STRIDELAB_SHARED_DATA`` or ``../shared/data``
beside the repository (the same rule as the tests' ``shared_data`` fixture)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_data(*parts: str) -> Path:
    """The shared data folder (or a sub-folder of it). Raises a clear error naming the folder and the
    environment variable when it is missing, instead of failing later on an empty file list."""
    root = Path(os.environ.get("STRIDELAB_SHARED_DATA", REPO.parent / "shared" / "data"))
    path = root.joinpath(*parts)
    if not path.is_dir():
        raise FileNotFoundError(
            f"shared data not found: {path} (set STRIDELAB_SHARED_DATA to the shared data folder, "
            "or place ../shared/data beside the repository)"
        )
    return path
