"""Run every benchmark and validation of the repository and print ONE table.

    python bench/run_all.py                 # full size (long: the import, IMU and Monte-Carlo runs)
    python bench/run_all.py --quick         # every benchmark at a reduced size, for a look
    python bench/run_all.py --only commands_speed fit_decode --json results.json

The protocol: a benchmark is a module ``bench/<name>.py`` (or ``bench/<folder>/<name>.py``) exposing

    def rows(quick: bool = False) -> list[dict]

each row a dict with the keys ``figure`` (what is measured, with its unit), ``goal`` (text, e.g.
``"<= 0.5 s"``), ``measured`` (text), ``peer_ratio`` (float: the figure over a named peer's measured
in the same run, or None; an optional ``peer`` key names it) and ``met`` (bool). ``quick=True`` asks for
a reduced size that still exercises the whole method. Modules are discovered by that function; a module
without it is listed as "no rows()" and not run. Each module runs in its own process (a benchmark may
pin itself to one core or hold a server) and its own output stays visible; a module that fails gives a
row ``met = False`` with the error. Exit status 1 when any goal is not met.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REQUIRED = ("figure", "goal", "measured", "peer_ratio", "met")


def discover(root: Path = BENCH) -> tuple[list[Path], list[Path]]:
    """(modules defining a top-level ``rows`` function, modules without one), by name. Found by
    parsing the source, not importing it (importing may be slow or need optional peers)."""
    with_rows: list[Path] = []
    without: list[Path] = []
    for path in sorted([*root.glob("*.py"), *root.glob("*/*.py")]):
        if path.name.startswith("_") or path.resolve() == Path(__file__).resolve():
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            without.append(path)
            continue
        has = any(
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "rows"
            for node in tree.body
        )
        (with_rows if has else without).append(path)
    return with_rows, without


def name_of(path: Path, root: Path = BENCH) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def check_rows(rows: Any) -> list[dict[str, Any]]:
    """The rows if they follow the protocol, else ValueError saying what is wrong."""
    if not isinstance(rows, list):
        raise ValueError(f"rows() returned {type(rows).__name__}, not a list")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"row {i} is a {type(row).__name__}, not a dict")
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise ValueError(f"row {i} lacks {', '.join(missing)}")
        if row["met"] is not None and not isinstance(row["met"], bool):  # None: a figure reported, no goal
            raise ValueError(f"row {i}: 'met' is {row['met']!r}, not a bool")
        ratio = row["peer_ratio"]
        if ratio is not None and not isinstance(ratio, int | float):
            raise ValueError(f"row {i}: 'peer_ratio' is {ratio!r}, not a number or None")
    return rows


def _child(path: str, quick: bool, out: str) -> int:
    """Import the module at ``path``, call ``rows(quick)`` and write the rows as JSON to ``out``."""
    import importlib.util

    sys.path.insert(0, str(Path(path).parent))
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    rows = check_rows(module.rows(quick=quick))
    Path(out).write_text(json.dumps(rows, default=str), encoding="utf-8")
    return 0


def run_module(path: Path, quick: bool) -> tuple[list[dict[str, Any]], float]:
    """The rows of one benchmark module (run in a child process) and the seconds it took."""
    with tempfile.TemporaryDirectory(prefix="stridelab-runall-") as tmp:
        out = Path(tmp) / "rows.json"
        argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(path), str(out)]
        if quick:
            argv.append("--quick")
        t0 = time.perf_counter()
        proc = subprocess.run(argv, stdout=sys.stdout, stderr=subprocess.PIPE, text=True, check=False)
        seconds = time.perf_counter() - t0
        if proc.stderr:
            sys.stderr.write(proc.stderr[-4000:])
        if proc.returncode != 0 or not out.exists():
            last = (proc.stderr or "").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
            return [
                {
                    "figure": "(the benchmark failed)",
                    "goal": "runs",
                    "measured": last[0][:200],
                    "peer_ratio": None,
                    "met": False,
                }
            ], seconds
        return check_rows(json.loads(out.read_text(encoding="utf-8"))), seconds


def format_table(results: list[tuple[str, list[dict[str, Any]]]]) -> str:
    """One table: benchmark, figure, goal, measured, ratio to peer, met."""
    lines = []
    head = ("benchmark", "figure", "goal", "measured", "ratio to peer", "met")
    body = []
    for name, rows in results:
        for r in rows:
            ratio = r["peer_ratio"]
            ratio_text = f"{ratio:.2f}x" if isinstance(ratio, int | float) else "-"
            body.append(
                (
                    name,
                    str(r["figure"]),
                    str(r["goal"]),
                    str(r["measured"]),
                    ratio_text,
                    "report" if r["met"] is None else "met" if r["met"] else "NOT met",
                )
            )
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for b in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)).rstrip())
    n_met = sum(1 for b in body if b[-1] == "met")
    n_goals = sum(1 for b in body if b[-1] != "report")
    lines.append(f"\n{n_met} of {n_goals} goals met")
    peers = sorted({f"{name}: {r['peer']}" for name, rows in results for r in rows if r.get("peer")})
    if peers:
        lines.append("ratios are against: " + "; ".join(peers))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes (rows(quick=True))")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="only these benchmarks (e.g. commands_speed)")
    ap.add_argument("--list", action="store_true", help="list the benchmarks found and exit")
    ap.add_argument("--json", type=Path, default=None, help="also write every row to this JSON file")
    ap.add_argument("--dir", type=Path, default=BENCH, help="the folder of benchmarks (default: bench/)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return _child(args.child[0], args.quick, args.child[1])
    root = args.dir.resolve()
    found, without = discover(root)
    if args.list:
        for path in found:
            print(name_of(path, root))
        for path in without:
            print(f"{name_of(path, root)}  (no rows(): not run)")
        return 0
    if args.only:
        known = {name_of(p, root): p for p in found}
        unknown = [n for n in args.only if n not in known]
        if unknown:
            ap.error(f"no benchmark with rows() named {', '.join(unknown)} (known: {', '.join(known)})")
        found = [known[n] for n in args.only]
    results: list[tuple[str, list[dict[str, Any]]]] = []
    for path in found:
        name = name_of(path, root)
        print(f"\n=== {name}{' (quick)' if args.quick else ''}", flush=True)
        rows, seconds = run_module(path, args.quick)
        print(f"=== {name}: {len(rows)} rows in {seconds:.0f} s", flush=True)
        results.append((name, rows))
    print("\n" + format_table(results))
    if without and not args.only:
        print("not run (no rows()): " + ", ".join(name_of(p, root) for p in without))
    if args.json is not None:
        payload = [{"benchmark": name, **r} for name, rows in results for r in rows]
        args.json.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return 0 if all(r["met"] is not False for _, rows in results for r in rows) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    raise SystemExit(main())
