"""The demo: a synthetic season (``stridelab.sim``: ~3 months of runs with known truth, as FIT files)
generated offline into a temporary folder and imported (:mod:`stridelab.services.imports`)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stridelab.services.imports import ImportResult, ProgressFn, import_paths
from stridelab.sim import simulate_season
from stridelab.store import Store

__all__ = ["DemoImport", "GeneratedSeason", "generated_season", "import_demo_season"]


@dataclass(frozen=True, slots=True)
class GeneratedSeason:
    """The FIT files of a generated season (the truth sidecars beside them are not for the store)."""

    paths: tuple[Path, ...]
    seconds: float  # time taken to generate them


@dataclass(frozen=True, slots=True)
class DemoImport:
    """A generated season and what importing it did."""

    generated: int
    generate_seconds: float
    result: ImportResult


@contextmanager
def generated_season(*, n_runs: int = 60, seed: int = 7) -> Iterator[GeneratedSeason]:
    """Generate a season of ``n_runs`` runs into a temporary folder, removed on exit."""
    with tempfile.TemporaryDirectory(prefix="stridelab-demo-") as tmp:
        t0 = time.perf_counter()
        paths = simulate_season(Path(tmp), n_runs=n_runs, seed=seed)
        yield GeneratedSeason(tuple(paths), time.perf_counter() - t0)


def import_demo_season(
    store: Store,
    athlete: str = "me",
    *,
    n_runs: int = 60,
    seed: int = 7,
    workers: int | None = None,
    progress: ProgressFn | None = None,
) -> DemoImport:
    """Generate a season and import its FIT files into ``store`` for ``athlete``."""
    with generated_season(n_runs=n_runs, seed=seed) as season:
        result = import_paths(store, season.paths, athlete=athlete, workers=workers, progress=progress)
    return DemoImport(len(season.paths), season.seconds, result)
