# ruff: noqa: E501  (XML templates as Apple writes them)
"""Apple Health import: peak memory and XML throughput on a generated multi-GB ``export.xml``.

Goals (issue 14): a 1 GB ``export.xml`` imports with peak RSS <= 300 MB at >= 50 MB/s of XML on one
core. One command::

    python bench/health_export.py                  # 1024 MB export
    python bench/health_export.py --mb 200         # a smaller one first

The export is generated to the DTD (version 14) and streamed to disk (never built in memory): a year of
daily-life records (heart rate, energy, steps, distance from a phone and a watch, walking gait) with
``MetadataEntry`` children, as Apple writes them, then one 45-minute run a day whose running-form samples
(ground contact time, vertical oscillation, stride length, power, speed every 5 s) lie in the records.
The size sets the number of days. The import (``stridelab.services.imports.import_paths``, one worker,
in-process) runs in a child process pinned to one core; its peak RSS is the child's
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` and the throughput is XML bytes / wall seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

GOAL_RSS_MB = 300.0
GOAL_MB_S = 50.0

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
]>
<HealthData locale="en_DE">
 <ExportDate value="2024-01-02 10:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>
"""
_DEV = (
    "&lt;&lt;HKDevice: 0x3037cec10&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
    "hardware:Watch6,10, software:10.6.1&gt;"
)
_WATCH = "Alex’s Apple Watch"
_PHONE = "Alex’s iPhone"
_REC = (
    ' <Record type="HKQuantityTypeIdentifier{t}" sourceName="{src}" sourceVersion="10.6.1" device="{dev}" '
    'unit="{u}" creationDate="{d} {e} +0100" startDate="{d} {s} +0100" endDate="{d} {e} +0100" value="{v}">\n'
    '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n'
)
_RUN_FORM = (
    ("RunningGroundContactTime", "ms", "251"),
    ("RunningVerticalOscillation", "cm", "8.7"),
    ("RunningStrideLength", "m", "1.18"),
    ("RunningPower", "W", "246"),
    ("RunningSpeed", "km/hr", "10.9"),
)


def _hms(sec: int) -> str:
    return f"{sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}"


def _day_records(d: str, kind: str) -> str:
    """One day of one record kind (records are grouped by type in an export)."""
    out: list[str] = []
    if kind == "HeartRate":  # every 5 min all day, every 5 s during the 07:00-07:45 run
        times = [*range(0, 7 * 3600, 300), *range(7 * 3600, 7 * 3600 + 2700, 5), *range(8 * 3600, 86400, 300)]
        for s in times:
            out.append(
                _REC.format(
                    t=kind, src=_WATCH, dev=_DEV, u="count/min", d=d, s=_hms(s), e=_hms(s), v=70 + s % 90
                )
            )
    elif kind in ("ActiveEnergyBurned", "BasalEnergyBurned"):
        for s in range(0, 86400 - 60, 60):
            out.append(
                _REC.format(t=kind, src=_WATCH, dev=_DEV, u="kcal", d=d, s=_hms(s), e=_hms(s + 60), v="0.84")
            )
    elif kind in ("DistanceWalkingRunning", "StepCount"):
        u, v = ("km", "0.031") if kind == "DistanceWalkingRunning" else ("count", "28")
        for src in (_PHONE, _WATCH):
            for s in range(6 * 3600, 23 * 3600, 120):
                out.append(_REC.format(t=kind, src=src, dev=_DEV, u=u, d=d, s=_hms(s), e=_hms(s + 10), v=v))
    elif kind.startswith("Walking"):
        u, v = {
            "WalkingAsymmetryPercentage": ("%", "0.04"),
            "WalkingStepLength": ("cm", "68"),
            "WalkingDoubleSupportPercentage": ("%", "0.28"),
            "WalkingSpeed": ("km/hr", "4.6"),
        }[kind]
        for s in range(8 * 3600, 20 * 3600, 1800):
            out.append(_REC.format(t=kind, src=_PHONE, dev=_DEV, u=u, d=d, s=_hms(s), e=_hms(s + 60), v=v))
    else:  # running form, every 5 s of the run
        u, v = next((u, v) for t, u, v in _RUN_FORM if t == kind)
        for s in range(7 * 3600, 7 * 3600 + 2700, 5):
            out.append(_REC.format(t=kind, src=_WATCH, dev=_DEV, u=u, d=d, s=_hms(s), e=_hms(s + 5), v=v))
    return "".join(out)


_KINDS = (
    "HeartRate",
    "ActiveEnergyBurned",
    "BasalEnergyBurned",
    "DistanceWalkingRunning",
    "StepCount",
    "WalkingAsymmetryPercentage",
    "WalkingStepLength",
    "WalkingDoubleSupportPercentage",
    "WalkingSpeed",
    *(t for t, _u, _v in _RUN_FORM),
)


def _workout(d: str) -> str:
    return (
        f' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="45" durationUnit="min" '
        f'sourceName="{_WATCH}" sourceVersion="10.6.1" device="{_DEV}" creationDate="{d} 07:45:00 +0100" '
        f'startDate="{d} 07:00:00 +0100" endDate="{d} 07:45:00 +0100">\n'
        '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n'
        f'  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="{d} 07:00:00 +0100" duration="5.5" durationUnit="min"/>\n'
        f'  <WorkoutStatistics type="HKQuantityTypeIdentifierDistanceWalkingRunning" startDate="{d} 07:00:00 +0100" '
        f'endDate="{d} 07:45:00 +0100" sum="8.2" unit="km"/>\n'
        f'  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" startDate="{d} 07:00:00 +0100" '
        f'endDate="{d} 07:45:00 +0100" sum="612" unit="kcal"/>\n </Workout>\n'
    )


def generate(path: Path, target_mb: float) -> int:
    """Stream an export of about ``target_mb`` MB to ``path``; the number of days (= workouts)."""
    day0 = date(2023, 1, 1)
    one_day = sum(len(_day_records("2023-01-01", k).encode()) for k in _KINDS) + len(_workout("2023-01-01"))
    n_days = max(1, int(target_mb * 1e6 // one_day))
    days = [(day0 + timedelta(days=i)).isoformat() for i in range(n_days)]
    with path.open("w", encoding="utf-8", buffering=1 << 22) as fh:
        fh.write(_HEAD)
        for kind in _KINDS:  # grouped by type, as Apple writes them
            template = _day_records("2023-01-01", kind)
            for d in days:
                fh.write(template.replace("2023-01-01", d))
        for d in days:
            fh.write(_workout(d))
        fh.write("</HealthData>\n")
    return n_days


def _child(xml: str, store_dir: str) -> None:
    import resource

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from stridelab.services.imports import import_paths
    from stridelab.store import Store

    store = Store.open(Path(store_dir))
    t0 = time.perf_counter()
    c0 = time.process_time()
    result = import_paths(store, [xml], workers=1)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "peak_mb": peak_kb / 1024,
                "imported": len(result.imported),
                "failed": result.failed[:3],
                "notes": [n for _, n in result.notes][:2],
            }
        )
    )


def measure(mb: float, where: Path | None = None) -> dict[str, float]:
    """Generate a ``mb`` MB export and import it in a child pinned to one core: size and figures."""
    with tempfile.TemporaryDirectory(prefix="stridelab-health-bench-", dir=where) as tmp:
        xml = Path(tmp) / "apple_health_export" / "export.xml"
        xml.parent.mkdir()
        t0 = time.perf_counter()
        n_days = generate(xml, mb)
        size_mb = xml.stat().st_size / 1e6
        print(
            f"generated {xml.name}: {size_mb:.0f} MB, {n_days} days / workouts in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(Path(__file__).parents[1] / "src"), os.environ.get("PYTHONPATH", "")]
            ),
        }
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(xml), str(Path(tmp) / "store")],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"the import child failed: {out.stderr[-2000:]}")
        fig = json.loads(out.stdout.strip().splitlines()[-1])
    return {**fig, "size_mb": size_mb}


def rows(quick: bool = False) -> list[dict[str, object]]:
    """The ``bench/run_all.py`` protocol; ``quick``: a 100 MB export instead of 1 GB."""
    fig = measure(100.0 if quick else 1024.0)
    size = fig["size_mb"]
    return [
        {
            "figure": f"Apple Health import ({size:.0f} MB export.xml), peak RSS",
            "goal": f"<= {GOAL_RSS_MB:.0f} MB",
            "measured": f"{fig['peak_mb']:.0f} MB",
            "peer_ratio": None,
            "met": bool(fig["peak_mb"] <= GOAL_RSS_MB),
        },
        {
            "figure": f"Apple Health import ({size:.0f} MB), XML per CPU second on one core",
            "goal": f">= {GOAL_MB_S:.0f} MB/s",
            "measured": f"{size / fig['cpu']:.1f} MB/s (wall {size / fig['wall']:.1f} MB/s)",
            "peer_ratio": None,
            "met": bool(size / fig["cpu"] >= GOAL_MB_S),
        },
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=1024.0, help="size of the generated export.xml (MB)")
    ap.add_argument("--dir", type=Path, default=None, help="where to write it (default: a temporary folder)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    try:
        fig = measure(args.mb, args.dir)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    size_mb = fig["size_mb"]
    mb_s_cpu = size_mb / fig["cpu"]
    mb_s_wall = size_mb / fig["wall"]
    print(
        f"import: {fig['imported']} workouts, failed {fig['failed']}; wall {fig['wall']:.1f} s, "
        f"cpu {fig['cpu']:.1f} s (wall > cpu: the core was shared with other processes)"
    )
    print(f"  {fig['notes'][0] if fig['notes'] else ''}")
    print("goals:")
    rss_ok = "met" if fig["peak_mb"] <= GOAL_RSS_MB else "NOT met"
    print(f"  peak RSS <= {GOAL_RSS_MB:.0f} MB: {fig['peak_mb']:.0f} MB -> {rss_ok}")
    cpu_ok = "met" if mb_s_cpu >= GOAL_MB_S else "NOT met"
    wall_ok = "met" if mb_s_wall >= GOAL_MB_S else "NOT met"
    print(f"  XML >= {GOAL_MB_S:.0f} MB/s on one core, per CPU second: {mb_s_cpu:.1f} MB/s -> {cpu_ok}")
    print(f"  XML >= {GOAL_MB_S:.0f} MB/s on one core, per wall second: {mb_s_wall:.1f} MB/s -> {wall_ok}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
