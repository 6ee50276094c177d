"""The demo: a synthetic season (``stridelab.sim``: ~3 months of runs with known truth, as FIT files)
generated offline into a temporary folder and imported (:mod:`stridelab.services.imports`).

The season ends on ``end_date`` (default: yesterday, UTC), so a fresh demo always has recent runs for
the home, the load guard and a plan started today; the seed alone fixes everything else, and an
explicit ``end_date`` makes the whole season reproducible (tests pass one).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from stridelab.services.imports import ImportResult, ProgressFn, import_paths
from stridelab.sim import simulate_season
from stridelab.store import Store

__all__ = [
    "DEMO_WEEKS",
    "DemoImport",
    "GeneratedSeason",
    "default_end_date",
    "generated_season",
    "import_demo_season",
    "season_start",
]

#: weeks in the demo season (its last day is the end date)
DEMO_WEEKS: Final[int] = 13


def default_end_date() -> date:
    """Yesterday (UTC): every run of the season is in the past, whatever the time of day."""
    return datetime.now(UTC).date() - timedelta(days=1)


def season_start(end_date: date, weeks: int = DEMO_WEEKS) -> datetime:
    """The first day (UTC midnight) of a ``weeks``-week season whose last day is ``end_date``."""
    first = end_date - timedelta(days=7 * weeks - 1)
    return datetime(first.year, first.month, first.day, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class GeneratedSeason:
    """The FIT files of a generated season (the truth sidecars beside them are not for the store)."""

    paths: tuple[Path, ...]
    seconds: float  # time taken to generate them
    start: date  # first day of the season
    end: date  # last day of the season


@dataclass(frozen=True, slots=True)
class DemoImport:
    """A generated season and what importing it did."""

    generated: int
    generate_seconds: float
    result: ImportResult
    start: date
    end: date


@contextmanager
def generated_season(
    *, n_runs: int = 60, seed: int = 7, end_date: date | None = None
) -> Iterator[GeneratedSeason]:
    """Generate a season of ``n_runs`` runs ending on ``end_date`` (default :func:`default_end_date`)
    into a temporary folder, removed on exit."""
    end = end_date or default_end_date()
    start = season_start(end)
    with tempfile.TemporaryDirectory(prefix="stridelab-demo-") as tmp:
        t0 = time.perf_counter()
        paths = simulate_season(Path(tmp), n_runs=n_runs, weeks=DEMO_WEEKS, seed=seed, start=start)
        yield GeneratedSeason(tuple(paths), time.perf_counter() - t0, start.date(), end)


def import_demo_season(
    store: Store,
    athlete: str = "me",
    *,
    n_runs: int = 60,
    seed: int = 7,
    end_date: date | None = None,
    workers: int | None = None,
    progress: ProgressFn | None = None,
) -> DemoImport:
    """Generate a season ending on ``end_date`` and import its FIT files into ``store`` for ``athlete``."""
    with generated_season(n_runs=n_runs, seed=seed, end_date=end_date) as season:
        result = import_paths(store, season.paths, athlete=athlete, workers=workers, progress=progress)
    return DemoImport(len(season.paths), season.seconds, result, season.start, season.end)
