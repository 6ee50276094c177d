"""FIT decoding speed: stridelab's engine against fitfast, garmin-fit-sdk and fitdecode (and fitparse).

One command (peers: ``pip install -e '.[bench]'``)::

    python bench/fit_decode.py                  # Set A and MultiSport-2019-11-24.fit; in-process + processes
    python bench/fit_decode.py --quick          # fewer rounds, no fitdecode, no whole-process runs
    python bench/fit_decode.py --rounds 9 --slow-rounds 3 --peers sdk,fitdecode,fitfast,fitparse

Method (built so that a busy machine cannot fool it):

* **Interleaved A/B rounds.** Every round times one pass of every decoder over the same in-memory
  bytes (no disk I/O timed), the order of the decoders rotated from round to round, so a change of
  machine load hits every decoder alike. The pure-Python peers (SDK, fitdecode) take part in the first
  ``--slow-rounds`` rounds only (a Set A pass of the SDK costs ~10 s). Before the rounds, one untimed
  pass of every fast decoder over the whole set (the pure-Python peers: one file) loads imports,
  caches and compiled code, so that no round pays a one-off cost (stridelab's compiled scanner loop
  is loaded before the rounds, as in a long-lived process that has decoded many interleaved files;
  a cold process loads it only once it has spent about as much CPU in Python scan steps, so a whole
  process decoding Set A once never loads it).
* **CPU time and wall.** Each pass is timed with ``time.process_time`` (CPU of this process: what
  other processes on the machine do not inflate) and ``time.perf_counter`` (wall). The goals use CPU.
* **Medians and min-max.** Per decoder: the median and the min-max of the passes. Per peer: the
  *paired* ratio of each round (peer pass / stridelab pass of the same round), its median and min-max.
* **Whole processes** (not in ``--quick``): each decoder also runs as a fresh ``python`` process
  (interpreter start, imports, reading the files, one pass), interleaved the same way, timed by the
  child's CPU (``os.wait4`` rusage) and wall.

Records = ``record`` messages (56,555 in Set A). Decoders:

* ``stridelab``: ``read_fit`` + the ``record`` DataFrame built (``read_fit`` scans the whole file and
  decodes ``hr`` and ``record``; every other message type is decoded when first accessed);
* ``stridelab all frames``: the same + the DataFrames of every message type built (all messages);
* ``fitfast.records``: record columns only (its fastest call); ``fitfast.parse``: all messages;
* ``garmin-fit-sdk``: ``Decoder(Stream.from_byte_array(...)).read()`` default options;
* ``fitdecode`` / ``fitparse``: iterate every message with values.

Goals (issue #15): stridelab >= 1.5x fitfast.records and >= 60x garmin-fit-sdk on Set A records (CPU,
median of the paired ratios), with the all-messages figure (stridelab all frames / fitfast.parse and
/ SDK) beside them. ``rows(quick)`` returns the goal rows for ``bench/run_all.py``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SET_A = [
    "activity-large-fenxi2-multisport.fit",
    "Suunto-Ambit-3-Peak-without-final-lap.fit",
    "mornindew-broken.fit",
    "Fr955v19.28andStryd.fit",
    "activity-small-fenix2-run.fit",
    "Fenix-2-pauses.fit",
    "IpBike-HRV-Data.fit",
    "FR920xt-with-runscribe-plus.fit",
    "Fenix-3-with-inactive-Moxy.fit",
    "Move_2020_01_15_19_27_16_Running.fit",
]
SET_B = ["MultiSport-2019-11-24.fit"]
_REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("STRIDELAB_SHARED_DATA", _REPO.parent / "shared" / "data"))

GOAL_FITFAST = 1.5
GOAL_SDK = 60.0
GOAL_RECORDS_PER_S = 1_000_000


def _stridelab_records(blob: bytes) -> int:
    from stridelab.io.fit import read_fit

    fit = read_fit(blob)
    return len(fit.messages["record"]) if "record" in fit.messages else 0


def _stridelab_all(blob: bytes) -> int:
    from stridelab.io.fit import read_fit

    fit = read_fit(blob)
    frames = {name: fit.messages[name] for name in fit.messages}
    return len(frames["record"]) if "record" in frames else 0


def _sdk(blob: bytes) -> int:
    from garmin_fit_sdk import Decoder, Stream

    messages, errors = Decoder(Stream.from_byte_array(bytearray(blob))).read()
    if errors:
        raise RuntimeError(errors[0])
    return len(messages.get("record_mesgs", []))


def _fitdecode(blob: bytes) -> int:
    import io

    import fitdecode

    n = 0
    with fitdecode.FitReader(io.BytesIO(blob)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                _ = [f.value for f in frame.fields]
                n += frame.name == "record"
    return n


def _fitparse(blob: bytes) -> int:
    import io

    import fitparse

    n = 0
    for m in fitparse.FitFile(io.BytesIO(blob)).get_messages():
        _ = m.get_values()
        n += m.name == "record"
    return n


def _fitfast_records(blob: bytes) -> int:
    import fitfast

    cols = fitfast.records(blob)
    return len(next(iter(cols.values()))) if cols else 0


def _fitfast_parse(blob: bytes) -> int:
    import fitfast

    return len(fitfast.parse(blob).get("record", []))


@dataclass(frozen=True)
class DecoderSpec:
    label: str
    fn: Callable[[bytes], int]
    slow: bool  # pure Python: fewer rounds


DECODERS: dict[str, DecoderSpec] = {
    "stridelab": DecoderSpec("stridelab", _stridelab_records, False),
    "stridelab-all": DecoderSpec("stridelab all frames", _stridelab_all, False),
    "fitfast": DecoderSpec("fitfast.records", _fitfast_records, False),
    "fitfast-parse": DecoderSpec("fitfast.parse", _fitfast_parse, False),
    "sdk": DecoderSpec("garmin-fit-sdk", _sdk, True),
    "fitdecode": DecoderSpec("fitdecode", _fitdecode, True),
    "fitparse": DecoderSpec("fitparse", _fitparse, True),
}


@dataclass
class Timings:
    """The passes of one decoder: per round index, (CPU s, wall s); and the records it decoded."""

    passes: dict[int, tuple[float, float]] = field(default_factory=dict)
    records: int = 0

    def cpu(self) -> list[float]:
        return [c for c, _ in self.passes.values()]

    def wall(self) -> list[float]:
        return [w for _, w in self.passes.values()]


def _spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def paired_ratios(peer: Timings, ours: Timings, *, cpu: bool = True) -> list[float]:
    """Per round that timed both: peer time / stridelab time (> 1: stridelab faster)."""
    k = 0 if cpu else 1
    return [peer.passes[r][k] / ours.passes[r][k] for r in sorted(peer.passes) if r in ours.passes]


def _time_pass(fn: Callable[[bytes], int], blobs: list[bytes]) -> tuple[float, float, int]:
    gc.collect()
    n = 0
    c0, w0 = time.process_time(), time.perf_counter()
    for b in blobs:
        n += fn(b)
    return time.process_time() - c0, time.perf_counter() - w0, n


def measure_in_process(
    blobs: list[bytes], keys: list[str], rounds: int, slow_rounds: int
) -> dict[str, Timings]:
    """Interleaved rounds in this process (decoder order rotated every round)."""
    runnable: list[str] = []
    if any(key.startswith("stridelab") for key in keys):
        # in process = a long-lived decoding process (import worker, server): one that has decoded
        # enough interleaved files to have loaded the compiled scanner loop (a cold process loads it
        # only after ~1,000,000 Python scan steps: see the whole-process figures)
        from stridelab.io.fit._scankernel import scan_loop

        scan_loop()
    for key in keys:
        try:
            # imports, caches, compiled code loaded: one untimed pass (the pure-Python peers: one file)
            for blob in blobs[:1] if DECODERS[key].slow else blobs:
                DECODERS[key].fn(blob)
        except ImportError as exc:
            print(f"  {DECODERS[key].label}: not installed ({exc}); pip install -e '.[bench]'")
            continue
        runnable.append(key)
    out = {key: Timings() for key in runnable}
    for r in range(rounds):
        shift = r % max(len(runnable), 1)
        for key in runnable[shift:] + runnable[:shift]:
            if DECODERS[key].slow and r >= slow_rounds:
                continue
            cpu, wall, n = _time_pass(DECODERS[key].fn, blobs)
            out[key].passes[r] = (cpu, wall)
            out[key].records = n
    return out


_CHILD = """
import os, sys, time
sys.path.insert(0, {bench!r})
import fit_decode as fd
blobs = [open(p, "rb").read() for p in {paths!r}]
n = sum(fd.DECODERS[{key!r}].fn(b) for b in blobs)
print(n)
"""


def measure_processes(
    paths: list[Path], keys: list[str], rounds: int, slow_rounds: int
) -> dict[str, Timings]:
    """Each decoder as a fresh Python process (start-up, imports, reading, one pass), interleaved;
    timed by the child's CPU time (user + system, from ``os.wait4``) and wall."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    out = {key: Timings() for key in keys}
    for r in range(rounds):
        shift = r % max(len(keys), 1)
        for key in keys[shift:] + keys[:shift]:
            if DECODERS[key].slow and r >= slow_rounds:
                continue
            code = _CHILD.format(
                bench=str(Path(__file__).resolve().parent), paths=[str(p) for p in paths], key=key
            )
            w0 = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
            )
            assert proc.stdout is not None and proc.stderr is not None
            stdout, stderr = proc.stdout.read(), proc.stderr.read()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - w0
            if proc.returncode != 0:
                print(f"  {DECODERS[key].label} process failed: {stderr.decode(errors='replace')[-300:]}")
                continue
            out[key].passes[r] = (usage.ru_utime + usage.ru_stime, wall)
            out[key].records = int(stdout.split()[-1])
    return {k: v for k, v in out.items() if v.passes}


def print_table(title: str, timings: dict[str, Timings], n_bytes: int) -> None:
    """The per-decoder medians and ranges, and the paired ratios to stridelab (CPU and wall)."""
    mb = n_bytes / 1e6
    ref = timings.get("stridelab") or next(iter(timings.values()))
    n_ref = ref.records
    print(f"\n{title}: {mb:.2f} MB, {n_ref:,} records")
    print(
        f"  {'decoder':22s} {'passes':>6s} {'CPU s median [min-max]':>30s} {'wall s median [min-max]':>30s}"
        f" {'records/s (CPU)':>16s}"
    )
    for key, t in timings.items():
        cm, c0, c1 = _spread(t.cpu())
        wm, w0, w1 = _spread(t.wall())
        flag = "" if t.records == n_ref else f"  (decoded {t.records:,} records)"
        print(
            f"  {DECODERS[key].label:22s} {len(t.passes):6d} {cm:10.4f} [{c0:8.4f}-{c1:8.4f}]"
            f" {wm:10.4f} [{w0:8.4f}-{w1:8.4f}] {n_ref / cm:16,.0f}{flag}"
        )
    if "stridelab" not in timings:
        return
    print("  paired ratios, peer time / stridelab time per round (> 1: stridelab faster):")
    for key, t in timings.items():
        if key.startswith("stridelab"):
            continue
        line = f"    {DECODERS[key].label:18s}"
        for kind, cpu in (("CPU", True), ("wall", False)):
            rs = paired_ratios(t, timings["stridelab"], cpu=cpu)
            if rs:
                m, lo, hi = _spread(rs)
                line += f"  {kind} {m:7.2f}x [{lo:.2f}-{hi:.2f}]"
        if "stridelab-all" in timings:
            rs = paired_ratios(t, timings["stridelab-all"])
            if rs:
                line += f"   (all frames, CPU: {statistics.median(rs):.2f}x)"
        print(line)


def _load(names: list[str], data: Path) -> tuple[list[Path], list[bytes]]:
    root = data / "fit"
    if not root.is_dir():
        raise FileNotFoundError(f"shared data not found: {root} (set STRIDELAB_SHARED_DATA or pass --data)")
    paths = []
    for n in names:
        found = next(root.rglob(n), None)
        if found is None:
            raise FileNotFoundError(f"benchmark file {n} not found under {root}")
        paths.append(found)
    return paths, [p.read_bytes() for p in paths]


def _ratio(
    timings: dict[str, Timings], peer: str, ours: str = "stridelab"
) -> tuple[float, float, float] | None:
    if peer not in timings or ours not in timings:
        return None
    rs = paired_ratios(timings[peer], timings[ours])
    return _spread(rs) if rs else None


def goal_rows(timings: dict[str, Timings]) -> list[dict[str, Any]]:
    """The goal rows of Set A (in-process CPU time, median of paired ratios)."""
    out: list[dict[str, Any]] = []
    ff, ff_all = _ratio(timings, "fitfast"), _ratio(timings, "fitfast-parse", "stridelab-all")
    if ff is not None:
        extra = f"; all messages (all frames / fitfast.parse) {ff_all[0]:.2f}x" if ff_all else ""
        out.append(
            {
                "figure": "FIT decode, Set A records vs fitfast.records (CPU, paired median)",
                "goal": f">= {GOAL_FITFAST}x",
                "measured": f"{ff[0]:.2f}x [{ff[1]:.2f}-{ff[2]:.2f}]{extra}",
                "peer_ratio": round(ff[0], 3),
                "met": ff[0] >= GOAL_FITFAST,
            }
        )
    sdk, sdk_all = _ratio(timings, "sdk"), _ratio(timings, "sdk", "stridelab-all")
    if sdk is not None:
        extra = f"; all messages (all frames) {sdk_all[0]:.1f}x" if sdk_all else ""
        out.append(
            {
                "figure": "FIT decode, Set A records vs garmin-fit-sdk (CPU, paired median)",
                "goal": f">= {GOAL_SDK:.0f}x",
                "measured": f"{sdk[0]:.1f}x [{sdk[1]:.1f}-{sdk[2]:.1f}]{extra}",
                "peer_ratio": round(sdk[0], 2),
                "met": sdk[0] >= GOAL_SDK,
            }
        )
    if "stridelab" in timings:
        t = timings["stridelab"]
        rate = t.records / statistics.median(t.cpu())
        out.append(
            {
                "figure": "FIT decode, Set A records/s (CPU, median)",
                "goal": f">= {GOAL_RECORDS_PER_S:,}/s",
                "measured": f"{rate:,.0f}/s",
                "peer_ratio": None,
                "met": rate >= GOAL_RECORDS_PER_S,
            }
        )
    return out


def _keys(peers: str) -> list[str]:
    keys = ["stridelab", "stridelab-all"]
    for peer in peers.split(","):
        peer = peer.strip()
        if peer == "fitfast":
            keys += ["fitfast", "fitfast-parse"]
        elif peer in DECODERS:
            keys.append(peer)
        elif peer:
            raise ValueError(
                f"Invalid value for the '--peers' parameter: {peer!r}; "
                "allowed: sdk, fitdecode, fitfast, fitparse"
            )
    return keys


def rows(quick: bool = False) -> list[dict[str, Any]]:
    """Goal rows for ``bench/run_all.py``: Set A, in process, interleaved (quick: 3 rounds, SDK once)."""
    _, blobs = _load(SET_A, DATA)
    keys = _keys("sdk,fitfast") if quick else _keys("sdk,fitdecode,fitfast")
    timings = measure_in_process(blobs, keys, 3 if quick else 7, 1 if quick else 2)
    return goal_rows(timings)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the tables, the ratios and the goal checks."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds (fast decoders)")
    ap.add_argument("--slow-rounds", type=int, default=2, help="rounds the pure-Python peers take part in")
    ap.add_argument("--process-rounds", type=int, default=3, help="whole-process rounds (0: none)")
    ap.add_argument(
        "--peers", default="sdk,fitdecode,fitfast", help="comma list: sdk,fitdecode,fitfast,fitparse"
    )
    ap.add_argument("--quick", action="store_true", help="3 rounds, SDK once, no fitdecode, no processes")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU core")
    args = ap.parse_args(argv)
    if args.quick:
        args.rounds, args.slow_rounds, args.process_rounds = 3, 1, 0
        args.peers = ",".join(p for p in args.peers.split(",") if p.strip() != "fitdecode")
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    try:
        keys = _keys(args.peers)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    paths_a, blobs_a = _load(SET_A, args.data)
    print(
        f"{args.rounds} interleaved rounds ({args.slow_rounds} for the pure-Python peers); "
        "CPU = time.process_time, wall = time.perf_counter"
    )
    timings_a = measure_in_process(blobs_a, keys, args.rounds, args.slow_rounds)
    print_table("Set A (10 files), in process", timings_a, sum(map(len, blobs_a)))
    _, blobs_b = _load(SET_B, args.data)
    timings_b = measure_in_process(blobs_b, keys, args.rounds, args.slow_rounds)
    print_table("MultiSport-2019-11-24.fit, in process", timings_b, sum(map(len, blobs_b)))
    if args.process_rounds > 0:
        procs = measure_processes(
            paths_a, [k for k in keys if k in timings_a], args.process_rounds, min(1, args.process_rounds)
        )
        print_table("Set A as whole processes (start-up + imports + one pass)", procs, sum(map(len, blobs_a)))
    print("\nGoals on Set A (stridelab = read_fit + record frame; in process, CPU, paired median):")
    for row in goal_rows(timings_a):
        print(
            f"  {row['figure']}: goal {row['goal']}, measured {row['measured']} -> "
            f"{'met' if row['met'] else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
