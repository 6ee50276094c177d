"""Public API hygiene and layering: lower layers never import upper ones."""

from __future__ import annotations

import ast
from pathlib import Path

import stridelab

SRC = Path(stridelab.__file__).resolve().parent

#: layer of each top-level part; a module may import only from its own layer or lower ones.
#: The store depends on the model alone, so it sits low: analysis caches and training logs persist
#: through it. ``ingest`` (readers + store) is the only place that joins io and store.
LAYERS: dict[str, int] = {
    "units": 0,
    "frames": 0,
    "model": 0,
    "io": 1,
    "store": 1,
    "sim": 2,
    "gait": 2,
    "analysis": 3,
    "training": 3,
    "ingest": 4,
    "report": 5,
    "scale": 5,
    "web": 6,
    "cli": 7,
    "__main__": 7,
    "__init__": 8,
}
#: deliberate upward calls, each behind a function-level (lazy) import and explained here
ALLOWED_LAZY: set[tuple[str, str]] = set()


def _part(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(imported stridelab part, at module level?)"""
    out: list[tuple[str, bool]] = []
    module_level = {id(n) for n in getattr(tree, "body", [])}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name.startswith("stridelab."):
                out.append((name.split(".")[1], id(node) in module_level))
    return out


def test_every_public_name_resolves() -> None:
    for name in stridelab.__all__:
        assert getattr(stridelab, name) is not None, name
    assert set(stridelab.__all__) == {"__version__", *stridelab._LAZY}
    assert stridelab.__version__ and stridelab.__version__ != "0+unknown"
