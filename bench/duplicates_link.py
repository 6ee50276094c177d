"""Cost of linking duplicates across sources (issue 14, point 5) at import.

One command::

    python bench/duplicates_link.py                 # 2,000 stored activities, 10 % with a 2nd source
    python bench/duplicates_link.py --n 5000

A store is filled with ``--n`` synthetic runs (one a day or so, every tenth with a second source
of the same run: shifted by 20 s, GPS only), then timed (best of ``--repeat``):

* ``link all``: :func:`stridelab.services.duplicates.relink` over every activity (what an import of
  the whole history does after its commits);
* ``link one``: the same for one new activity (an everyday import);
* ``corpus``: the shared corpus's FIT files imported in-process (1 worker), and the linking step of
  that import timed alone (a relink of the imported ids), as a share of the import's time.

Goal: linking costs <= 10 % of the import it follows, and one new activity links in <= 100 ms in a
2,000-activity store.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from stridelab.model import Activity
from stridelab.services import duplicates as dup
from stridelab.services.imports import import_paths
from stridelab.store import Store

REPO = Path(__file__).resolve().parents[1]


def _activity(tag: str, start: pd.Timestamp, minutes: float, *, hr: bool, gps: bool) -> Activity:
    n = int(minutes * 6) + 1
    t = np.arange(n) * 10.0
    data = {
        "elapsed_s": t,
        "timer_s": t,
        "paused": np.zeros(n, dtype=bool),
        "session_index": np.zeros(n, dtype="int64"),
        "lap_index": np.zeros(n, dtype="int64"),
        "distance_m": t * 3.0,
    }
    if hr:
        data["heart_rate_bpm"] = np.full(n, 140.0)
    if gps:
        data["lat_deg"] = 47.0 + t * 3.0 / 111_195.0
        data["lon_deg"] = np.full(n, 8.0)
    records = pd.DataFrame(data, index=pd.DatetimeIndex(start + pd.to_timedelta(t, unit="s"), name="time"))
    return Activity(
        id=hashlib.sha256(tag.encode()).hexdigest(),
        source_path=f"/bench/{tag}",
        format="fit",
        start_time=start,
        duration_s=float(t[-1]),
        elapsed_s=float(t[-1]),
        distance_m=float(t[-1] * 3.0),
        sport="running",
        sub_sport=None,
        records=records,
    )


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(n: int, repeat: int, data: Path) -> dict[str, float]:
    """The store of ``n`` runs (10 % with a second source), linked; the corpus imported; the times."""
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "s")
        t0 = pd.Timestamp("2020-01-01T06:00:00Z")
        ids: list[str] = []
        for i in range(n):
            start = t0 + pd.Timedelta(hours=26 * i + float(rng.uniform(0, 4)))
            a = _activity(f"run{i}", start, 40 + 20 * float(rng.random()), hr=True, gps=False)
            store.add_activity("me", a)
            ids.append(a.id)
            if i % 10 == 0:
                b = _activity(f"dup{i}", start + pd.Timedelta(seconds=20), 40, hr=False, gps=True)
                store.add_activity("me", b)
                ids.append(b.id)
        link_all = _best(lambda: dup.relink(store, "me", ids), repeat)
        n_links = sum(1 for _ in dup.duplicates_by_primary(store, "me").values())
        link_one = _best(lambda: dup.relink(store, "me", [ids[len(ids) // 2]]), repeat)

        files = sorted(p for p in data.rglob("*.fit"))
        st = Store.open(Path(tmp) / "corpus")
        t = time.perf_counter()
        res = import_paths(st, files, workers=1)
        imp = time.perf_counter() - t
        corpus_ids = [i for _, i in res.imported]
        # the linking step of that import, alone (it runs after the commits; unchanged links: no write)
        link_corpus = _best(lambda: dup.relink(st, "me", corpus_ids), repeat)
    return {
        "n_activities": len(ids),
        "n_links": n_links,
        "link_all_s": link_all,
        "link_one_s": link_one,
        "n_files": len(files),
        "n_corpus": len(corpus_ids),
        "import_s": imp,
        "link_corpus_s": link_corpus,
    }


def rows(quick: bool = False) -> list[dict[str, object]]:
    """The ``bench/run_all.py`` protocol; ``quick``: 500 stored activities instead of 2,000."""
    m = measure(500 if quick else 2000, 3, REPO.parent / "shared" / "data" / "fit")
    share = m["link_corpus_s"] / m["import_s"]
    return [
        {
            "figure": f"link one new activity ({m['n_activities']:.0f} stored), ms",
            "goal": "<= 100 ms",
            "measured": f"{m['link_one_s'] * 1000:.1f} ms",
            "peer_ratio": None,
            "met": bool(m["link_one_s"] <= 0.1),
        },
        {
            "figure": f"linking share of the corpus import ({m['n_files']:.0f} files)",
            "goal": "<= 10 %",
            "measured": f"{share * 100:.1f} % ({m['link_corpus_s'] * 1000:.0f} ms of {m['import_s']:.1f} s)",
            "peer_ratio": share,
            "peer": "the import the linking follows",
            "met": bool(share <= 0.10),
        },
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "fit")
    args = ap.parse_args(argv)
    m = measure(args.n, args.repeat, args.data)
    n_ids, link_all, link_one = int(m["n_activities"]), m["link_all_s"], m["link_one_s"]
    print(f"store: {n_ids} activities, {int(m['n_links'])} primaries with a duplicate")
    each_us = link_all / n_ids * 1e6
    print(f"link all ({n_ids} activities): {link_all * 1000:.0f} ms ({each_us:.0f} us each)")
    print(f"link one: {link_one * 1000:.1f} ms  goal <= 100 ms: {'met' if link_one <= 0.1 else 'not met'}")
    share = m["link_corpus_s"] / m["import_s"]
    print(
        f"corpus ({int(m['n_files'])} files, {int(m['n_corpus'])} activities): import (linking included) "
        f"{m['import_s']:.1f} s, linking {m['link_corpus_s'] * 1000:.0f} ms = {share * 100:.1f} %  "
        f"goal <= 10 %: {'met' if share <= 0.10 else 'not met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
