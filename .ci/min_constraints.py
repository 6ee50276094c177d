"""Print a pip constraints file pinning every dependency of pyproject.toml to its declared lower bound.

    python .ci/min_constraints.py > min.txt && pip install -c min.txt .

Used by ``.ci/run``'s minimum-versions job (issue 19): a lower bound that is not installed and tested
is a guess. Every dependency must declare one (``name>=X``); the script fails otherwise.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_SPEC = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")


def lower_bounds(pyproject: Path) -> list[str]:
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    out = []
    for dep in deps:
        m = _SPEC.match(dep.split(";")[0])
        floor = next(
            (c[2:].strip() for c in (m.group(2) if m else "").split(",") if c.strip().startswith(">=")), None
        )
        if m is None or floor is None:
            raise SystemExit(f"dependency without a lower bound (name>=X): {dep!r}")
        out.append(f"{m.group(1)}=={floor}")
    return out


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    print("\n".join(lower_bounds(root / "pyproject.toml")))
