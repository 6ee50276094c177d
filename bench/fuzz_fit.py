"""Long fuzzing runs of the fast FIT engine (the test suite runs a quick hypothesis slice).

    python bench/fuzz_fit.py --cases 20000 [--seed 1] [--data ../shared/data] [--save-dir /tmp/fitfuzz]

Each case mutates a corpus file (truncate anywhere, overwrite bytes, splice two files, random
header, insert/delete a chunk) and checks the contract: lenient decoding never raises and never
needs its internal-error safety net, strict decoding raises only ``FitDecodeError``, and the
conversion to an Activity (what ``stridelab import`` does) raises only ``FitDecodeError`` or
``NotAnActivityError`` (a sound file that holds no activity: settings, workout...). Failing inputs
are written to ``--save-dir``. Exit status 1 when any case failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

from _shared import REPO, shared_data
from stridelab.io import NotAnActivityError
from stridelab.io.fit import read_activity
from stridelab.io.fit._decoder import INTERNAL_ERROR, read_fit
from stridelab.io.fit._types import FitDecodeError
from stridelab.store.activities import activity_summary

MUTATIONS = ("truncate", "flip", "splice", "header", "chunk")


def mutate(rng: random.Random, files: list[bytes]) -> tuple[str, bytes]:
    """One random mutation of a random corpus file."""
    kind = rng.choice(MUTATIONS)
    d = bytearray(rng.choice(files))
    if kind == "truncate":
        d = d[: rng.randrange(len(d) + 1)]
    elif kind == "flip":
        for _ in range(rng.randrange(1, 24)):
            d[rng.randrange(len(d))] = rng.randrange(256)
    elif kind == "splice":
        e = rng.choice(files)
        d = d[: rng.randrange(len(d) + 1)] + e[rng.randrange(len(e) + 1) :]
    elif kind == "header":
        d[:14] = bytes(rng.randrange(256) for _ in range(14))
        if rng.random() < 0.5:
            d[0] = rng.choice((12, 14))
            d[8:12] = b".FIT"
    else:
        a = rng.randrange(len(d) + 1)
        if rng.random() < 0.5:
            d[a:a] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        else:
            del d[a : a + rng.randrange(1, 64)]
    return kind, bytes(d)


def check(blob: bytes) -> str | None:
    """None when the contract holds, else a description of the failure (warnings count as errors,
    as in the test suite)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return _check(blob)


def _check(blob: bytes) -> str | None:
    try:
        fit = read_fit(blob)
        for name in list(fit.messages):
            _ = fit.messages[name]
    except Exception:
        return "lenient raised:\n" + traceback.format_exc(limit=4)
    bad = [p for p in fit.problems if INTERNAL_ERROR in p.message]
    if bad:
        return f"lenient used its safety net: {bad[0].message}"
    try:
        read_fit(blob, strict=True)
    except FitDecodeError as exc:
        if INTERNAL_ERROR in str(exc):
            return f"strict internal error: {exc}"
    except Exception:
        return "strict raised something else than FitDecodeError:\n" + traceback.format_exc(limit=4)
    try:  # what ``stridelab import`` does with the bytes: an Activity and its catalog summary
        activity = read_activity(blob)
        json.dumps(activity_summary(activity), allow_nan=False, default=str)
    except (FitDecodeError, NotAnActivityError):  # the reader's documented errors
        pass
    except Exception:
        return "read_activity raised something else than FitDecodeError:\n" + traceback.format_exc(limit=4)
    return None


def fuzz(cases: int, seed: int, data: Path, max_bytes: int, save_dir: Path) -> tuple[int, int, float]:
    """Run ``cases`` mutated cases; returns (corpus files, failures, seconds); prints the summary."""
    paths = sorted(p for p in (data / "fit").rglob("*") if p.suffix.lower() == ".fit")
    files = [p.read_bytes() for p in paths if p.stat().st_size <= max_bytes]
    if not files:
        raise FileNotFoundError(f"no FIT files under {data / 'fit'}")
    rng = random.Random(seed)
    kinds: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    t0 = time.perf_counter()
    for i in range(cases):
        kind, blob = mutate(rng, files)
        kinds[kind] += 1
        err = check(blob)
        if err is not None:
            failures[kind] += 1
            save_dir.mkdir(parents=True, exist_ok=True)
            out = save_dir / f"case{seed}_{i}_{kind}.fit"
            out.write_bytes(blob)
            print(f"FAIL case {i} ({kind}) saved to {out}\n{err}", file=sys.stderr)
    el = time.perf_counter() - t0
    print(
        f"fuzz_fit: {cases} cases from {len(files)} corpus files, seed {seed}, {el:.1f} s; "
        f"by mutation {dict(sorted(kinds.items()))}; failures {sum(failures.values())} {dict(failures)}"
    )
    return len(files), sum(failures.values()), el


def rows(quick: bool = False) -> list[dict[str, object]]:
    """The ``bench/run_all.py`` protocol; ``quick``: 300 cases instead of 2,000."""
    cases = 300 if quick else 2000
    data = shared_data()
    n_files, failed, seconds = fuzz(cases, 0, data, 200_000, Path("/tmp/stridelab-fitfuzz"))
    return [
        {
            "figure": f"FIT fuzz cases breaking the contract ({cases} from {n_files} files)",
            "goal": "0",
            "measured": f"{failed} ({seconds:.0f} s)",
            "peer_ratio": None,
            "met": failed == 0,
        }
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer; print a summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("STRIDELAB_SHARED_DATA", REPO.parent / "shared" / "data")),
    )
    ap.add_argument("--max-bytes", type=int, default=200_000, help="use corpus files up to this size")
    ap.add_argument("--save-dir", type=Path, default=Path("/tmp/stridelab-fitfuzz"))
    args = ap.parse_args(argv)
    try:
        _, failed, _ = fuzz(args.cases, args.seed, args.data, args.max_bytes, args.save_dir)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
