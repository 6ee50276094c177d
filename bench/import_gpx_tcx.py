"""GPX/TCX archive import against the FIT archive's, in the same run: files per second.

    python bench/import_gpx_tcx.py                          # 2,000 runs of each, 5 paired repeats
    python bench/import_gpx_tcx.py --runs 200 --repeats 7   # a quicker look

1. Builds (once; cached in ``--archive``) the FIT archive of :mod:`import_archive` (synthetic one-hour
   runs, 1 Hz) and, from the same runs, a GPX/TCX archive: even runs as GPX 1.1 with Garmin
   TrackPointExtension v2 (hr, cad, atemp) and power, odd runs as TCX with ActivityExtension v2 (Speed,
   RunCadence, Watts), a lap per kilometre. The same activities, so the comparison is of formats.
   Building is not timed.
2. Runs ``python -m stridelab import`` on each archive in a fresh store, pinned to ``--workers`` cores,
   ``--repeats`` times, interleaved (FIT, GPX/TCX, GPX/TCX, FIT, ...: each pair shares the machine's
   state of the moment, and neither always goes first). Each import is timed by wall clock from the
   outside and by CPU time (user + system of the CLI and its worker processes, from ``wait4``), the
   figure that a busy shared machine disturbs least.
3. Prints every repeat, then per archive the median and min-max of files/s (wall and CPU), and the
   ratio GPX/TCX : FIT per pair (median, min-max).

Goal (issue 14): the GPX/TCX archive imports at >= 50 % of the FIT archive's files per second: met when
the median paired ratio is >= 50 % by wall clock and by CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from import_archive import build_archive  # bench/ is the script's directory

GOAL_RATIO = 0.5
_TCX_VALUES = (("altitude_m", "AltitudeMeters", ".1f"), ("distance_m", "DistanceMeters", ".2f"))
_TPX_VALUES = (
    ("speed_m_s", "Speed", ".3f"),
    ("cadence_rpm", "RunCadence", ".0f"),
    ("power_w", "Watts", ".0f"),
)


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(v: float, fmt: str) -> str | None:
    return None if v is None or not np.isfinite(v) else format(v, fmt)


def _gpx(records: pd.DataFrame) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="stridelab bench" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2" '
        'xmlns:gpxpx="http://www.garmin.com/xmlschemas/PowerExtension/v1">\n'
        "<trk><type>running</type><trkseg>\n"
    ]
    cols = {c: records[c].to_numpy() if c in records else None for c in records.columns}
    for i, ts in enumerate(records.index):
        lat, lon = cols["lat_deg"][i], cols["lon_deg"][i]  # type: ignore[index]
        ext = []
        for col, tag, fmt in (("heart_rate_bpm", "hr", ".0f"), ("cadence_rpm", "cad", ".0f")):
            v = cols.get(col)
            s = _num(v[i], fmt) if v is not None else None
            if s is not None:
                ext.append(f"<gpxtpx:{tag}>{s}</gpxtpx:{tag}>")
        power = cols.get("power_w")
        p = _num(power[i], ".0f") if power is not None else None
        alt = cols.get("altitude_m")
        a = _num(alt[i], ".1f") if alt is not None else None
        out.append(
            f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}">'
            + (f"<ele>{a}</ele>" if a is not None else "")
            + f"<time>{_iso(ts)}</time><extensions><gpxtpx:TrackPointExtension>{''.join(ext)}"
            "</gpxtpx:TrackPointExtension>"
            + (f"<gpxpx:PowerExtension><gpxpx:PowerInW>{p}</gpxpx:PowerInW></gpxpx:PowerExtension>" * bool(p))
            + "</extensions></trkpt>\n"
        )
    out.append("</trkseg></trk>\n</gpx>\n")
    return "".join(out)


def _tcx(records: pd.DataFrame) -> str:
    dist = records["distance_m"].to_numpy()
    km = np.nan_to_num(dist // 1000.0, nan=0.0).astype(int)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase '
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">\n<Activities>\n'
        f'<Activity Sport="Running"><Id>{_iso(records.index[0])}</Id>\n'
    ]
    cols = {c: records[c].to_numpy() for c in records.columns}
    t = pd.DatetimeIndex(records.index)
    for lap in np.unique(km):
        idx = np.flatnonzero(km == lap)
        i0, i1 = idx[0], idx[-1]
        secs = (t[i1] - t[i0]).total_seconds() + 1
        out.append(
            f'<Lap StartTime="{_iso(t[i0])}"><TotalTimeSeconds>{secs:.1f}</TotalTimeSeconds>'
            f"<DistanceMeters>{dist[i1] - dist[i0]:.1f}</DistanceMeters><Intensity>Active</Intensity>"
            "<TriggerMethod>Distance</TriggerMethod><Track>\n"
        )
        for i in idx:
            parts = [f"<Trackpoint><Time>{_iso(t[i])}</Time>"]
            parts.append(
                f"<Position><LatitudeDegrees>{cols['lat_deg'][i]:.7f}</LatitudeDegrees>"
                f"<LongitudeDegrees>{cols['lon_deg'][i]:.7f}</LongitudeDegrees></Position>"
            )
            for col, tag, fmt in _TCX_VALUES:
                s = _num(cols[col][i], fmt) if col in cols else None
                if s is not None:
                    parts.append(f"<{tag}>{s}</{tag}>")
            hr = _num(cols["heart_rate_bpm"][i], ".0f") if "heart_rate_bpm" in cols else None
            if hr is not None:
                parts.append(f"<HeartRateBpm><Value>{hr}</Value></HeartRateBpm>")
            ext = []
            for col, tag, fmt in _TPX_VALUES:
                s = _num(cols[col][i], fmt) if col in cols else None
                if s is not None:
                    ext.append(f"<ns3:{tag}>{s}</ns3:{tag}>")
            parts.append(f"<Extensions><ns3:TPX>{''.join(ext)}</ns3:TPX></Extensions></Trackpoint>\n")
            out.append("".join(parts))
        out.append("</Track></Lap>\n")
    out.append("</Activity>\n</Activities>\n</TrainingCenterDatabase>\n")
    return "".join(out)


def _convert(args: tuple[str, str, int]) -> int:
    fit_path, out_dir, i = args
    from stridelab.io.fit import read_activity

    records = read_activity(Path(fit_path).read_bytes()).records
    records = records[records["lat_deg"].notna()] if "lat_deg" in records else records
    if i % 2 == 0:
        path, text = Path(out_dir) / f"run_{i:05d}.gpx", _gpx(records)
    else:
        path, text = Path(out_dir) / f"run_{i:05d}.tcx", _tcx(records)
    tmp = path.with_suffix(".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.rename(path)
    return path.stat().st_size


def build_xml_archive(fit_dir: Path, xml_dir: Path, runs: int, jobs: int) -> tuple[int, int]:
    """GPX (even) and TCX (odd) twins of the first ``runs`` FIT runs; returns (files, bytes)."""
    xml_dir.mkdir(parents=True, exist_ok=True)
    todo = []
    for i in range(runs):
        name = f"run_{i:05d}.{'gpx' if i % 2 == 0 else 'tcx'}"
        if not (xml_dir / name).exists():
            todo.append((str(fit_dir / f"run_{i:05d}.fit"), str(xml_dir), i))
    if todo:
        print(f"building the GPX/TCX archive: {len(todo)} of {runs} files ...", flush=True)
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for _ in pool.map(_convert, todo, chunksize=8):
                pass
        print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
    files = sorted(p for p in xml_dir.iterdir() if p.suffix in (".gpx", ".tcx"))[:runs]
    return len(files), sum(f.stat().st_size for f in files)


def _subset(folder: Path, pattern: str, runs: int, name: str) -> Path:
    files = sorted(folder.glob(pattern))
    if len(files) == runs:
        return folder
    sub = folder / name
    sub.mkdir(exist_ok=True)
    for f in files[:runs]:
        if not (sub / f.name).exists():
            os.link(f, sub / f.name)
    return sub


def timed_import(archive: Path, store: Path, workers: int, cpus: set[int] | None) -> dict[str, Any]:
    """One ``stridelab import --json`` in a fresh store: wall seconds, CPU seconds (the CLI and every
    worker it waited for: ``wait4``'s rusage), exit code and the CLI's JSON."""
    cmd = [sys.executable, "-m", "stridelab", "import", str(archive), "--store", str(store), "--json"]
    cmd += ["--workers", str(workers)]

    def pin() -> None:
        if cpus and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cpus)

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, preexec_fn=pin)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace")
        errors = err.read().decode(errors="replace")
    try:
        result = json.loads(text)
    except ValueError:
        result = {"error": (text + errors)[-2000:]}
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "exit": proc.returncode,
        "result": result,
    }


def _spread(values: list[float], fmt: str = ".1f") -> str:
    return f"median {statistics.median(values):{fmt}} (min {min(values):{fmt}}, max {max(values):{fmt}})"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000, help="files in each archive")
    ap.add_argument("--repeats", type=int, default=5, help="paired (FIT, GPX/TCX) imports, interleaved")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2, help="processes used to build the archives")
    ap.add_argument("--archive", type=Path, default=Path(tempfile.gettempdir()) / "stridelab-bench-gpxtcx")
    return ap


def measure(args: argparse.Namespace) -> tuple[dict[str, list[float]], bool]:
    """Build (or reuse) both archives and import them in interleaved repeats; the paired GPX/TCX : FIT
    ratios of files per second (wall and CPU) and whether every file imported in every repeat."""

    fit_dir, xml_dir = args.archive / "fit", args.archive / "xml"
    n_fit, fit_bytes = build_archive(fit_dir, args.runs, args.jobs)
    n_xml, xml_bytes = build_xml_archive(fit_dir, xml_dir, args.runs, args.jobs)
    inputs = {
        "FIT": (_subset(fit_dir, "run_*.fit", args.runs, f"subset_{args.runs}"), n_fit),
        "GPX/TCX": (_subset(xml_dir, "run_*.[gt][pc]x", args.runs, f"subset_{args.runs}"), n_xml),
    }
    avail = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cpus = set(avail[: args.workers]) if avail else None
    print(
        f"FIT archive: {n_fit} files, {fit_bytes / 1e6:.1f} MB; GPX/TCX archive: {n_xml} files "
        f"({(n_xml + 1) // 2} GPX, {n_xml // 2} TCX), {xml_bytes / 1e6:.1f} MB; workers {args.workers}; "
        f"{args.repeats} interleaved repeats; load average {os.getloadavg()[0]:.1f}"
    )
    rates: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in inputs}
    ratios: dict[str, list[float]] = {"wall": [], "cpu": []}
    ok = True
    print(
        f"{'repeat':>6s} {'archive':8s} {'wall s':>8s} {'CPU s':>8s} "
        f"{'files/s wall':>13s} {'files/s CPU':>12s}"
    )
    for rep in range(args.repeats):
        order = ["FIT", "GPX/TCX"] if rep % 2 == 0 else ["GPX/TCX", "FIT"]
        got: dict[str, dict[str, Any]] = {}
        for label in order:
            folder, n = inputs[label]
            tmp = Path(tempfile.mkdtemp(prefix="stridelab-bench-store-"))
            try:
                r = got[label] = timed_import(folder, tmp / "store", args.workers, cpus)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            imported = r["result"].get("imported")
            if r["exit"] != 0 or imported != n:
                ok = False
                print(f"  {label}: exit {r['exit']}, imported {imported} of {n}: {str(r['result'])[:300]}")
            rates[label]["wall"].append(n / r["wall_s"])
            rates[label]["cpu"].append(n / r["cpu_s"])
            print(
                f"{rep + 1:6d} {label:8s} {r['wall_s']:8.2f} {r['cpu_s']:8.2f} "
                f"{rates[label]['wall'][-1]:13.1f} {rates[label]['cpu'][-1]:12.1f}",
                flush=True,
            )
        for kind in ("wall", "cpu"):
            ratios[kind].append(rates["GPX/TCX"][kind][-1] / rates["FIT"][kind][-1])
    print("files per second:")
    for label in inputs:
        for kind in ("wall", "cpu"):
            print(f"  {label:8s} {kind:4s} {_spread(rates[label][kind])}")
    print("GPX/TCX : FIT, paired by repeat:")
    for kind in ("wall", "cpu"):
        print(f"  {kind:4s} {_spread([100 * x for x in ratios[kind]], '.0f')} %")
    return ratios, ok


def rows(quick: bool = False) -> list[dict[str, object]]:
    """The ``bench/run_all.py`` protocol; ``quick``: 200 runs and 3 repeats instead of 2,000 and 5."""
    args = _parser().parse_args(["--runs", "200", "--repeats", "3"] if quick else [])
    ratios, ok = measure(args)
    wall, cpu = statistics.median(ratios["wall"]), statistics.median(ratios["cpu"])
    return [
        {
            "figure": f"GPX/TCX archive import ({args.runs} files), files/s vs FIT (paired medians)",
            "goal": f">= {GOAL_RATIO:.0%} of FIT",
            "measured": f"wall {wall:.0%}, CPU {cpu:.0%}",
            "peer_ratio": wall,
            "peer": "the same runs as FIT files",
            "met": ok and wall >= GOAL_RATIO and cpu >= GOAL_RATIO,
        }
    ]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    ratios, ok = measure(args)
    met = all(statistics.median(ratios[k]) >= GOAL_RATIO for k in ("wall", "cpu"))
    print("goal:")
    print(
        f"  GPX/TCX files/s >= {GOAL_RATIO:.0%} of FIT files/s (median paired ratio, wall and CPU): "
        f"wall {statistics.median(ratios['wall']):.0%}, CPU {statistics.median(ratios['cpu']):.0%} -> "
        f"{'met' if met else 'NOT met'}"
    )
    print(f"  every file imported, exit code 0, in every repeat: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
