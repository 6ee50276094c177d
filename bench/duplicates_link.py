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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "fit")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "s")
        t0 = pd.Timestamp("2020-01-01T06:00:00Z")
        ids: list[str] = []
        for i in range(args.n):
            start = t0 + pd.Timedelta(hours=26 * i + float(rng.uniform(0, 4)))
            a = _activity(f"run{i}", start, 40 + 20 * float(rng.random()), hr=True, gps=False)
            store.add_activity("me", a)
            ids.append(a.id)
            if i % 10 == 0:
                b = _activity(f"dup{i}", start + pd.Timedelta(seconds=20), 40, hr=False, gps=True)
                store.add_activity("me", b)
                ids.append(b.id)
        link_all = _best(lambda: dup.relink(store, "me", ids), args.repeat)
        n_links = sum(1 for _ in dup.duplicates_by_primary(store, "me").values())
        link_one = _best(lambda: dup.relink(store, "me", [ids[len(ids) // 2]]), args.repeat)

        files = sorted(p for p in args.data.rglob("*.fit"))
        st = Store.open(Path(tmp) / "corpus")
        t = time.perf_counter()
        res = import_paths(st, files, workers=1)
        imp = time.perf_counter() - t
        corpus_ids = [i for _, i in res.imported]
        # the linking step of that import, alone (it runs after the commits; unchanged links: no write)
        link_corpus = _best(lambda: dup.relink(st, "me", corpus_ids), args.repeat)
    print(f"store: {len(ids)} activities, {n_links} primaries with a duplicate")
    each_us = link_all / len(ids) * 1e6
    print(f"link all ({len(ids)} activities): {link_all * 1000:.0f} ms ({each_us:.0f} us each)")
    print(f"link one: {link_one * 1000:.1f} ms  goal <= 100 ms: {'met' if link_one <= 0.1 else 'not met'}")
    share = link_corpus / imp
    print(
        f"corpus ({len(files)} files, {len(corpus_ids)} activities): import (linking included) {imp:.1f} s, "
        f"linking {link_corpus * 1000:.0f} ms = {share * 100:.1f} %  goal <= 10 %: "
        f"{'met' if share <= 0.10 else 'not met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
