"""The one layering test: layers, no cycles, no private cross-imports, the store owns every byte,
the edges call only services and present.

Run ``python tests/meta/test_architecture.py`` to print the counts of each kind of violation.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import stridelab

SRC = Path(stridelab.__file__).resolve().parent

#: layer of each top-level part; a module may import only from its own layer or lower ones.
#: ``docs/architecture.md`` draws the same picture.
LAYERS: dict[str, int] = {
    "units": 0,
    "frames": 0,
    "model": 0,
    "jsonsafe": 0,
    "version": 0,
    "procs": 0,
    "lazy": 0,
    "io": 1,
    "sim": 2,
    "gait": 2,
    "analysis": 3,
    "training": 4,
    "store": 5,
    "present": 5,
    "services": 6,
    "report": 7,
    "live": 8,
    "scale": 8,
    "web": 8,
    "cli": 9,
    "__main__": 9,
    "__init__": 10,
}
#: parts that may import only these parts (besides themselves)
ONLY: dict[str, tuple[str, ...]] = {"sim": ("units", "frames", "model", "jsonsafe", "version", "io")}
#: pure cores: data in, results out (no store, no SQL, no files of the store).
PURE = ("gait", "analysis", "training")
#: the front ends call services and present, never the store or the cores directly.
EDGES = ("web", "cli")
EDGE_FORBIDDEN = ("store", "gait", "analysis", "training", "io", "sim")
#: modules that talk to a database or write Parquet: allowed only inside ``store``.
DB_MODULES = ("sqlite3", "duckdb", "pyarrow.parquet")
PARQUET_CALLS = ("read_parquet", "to_parquet", "write_table", "read_table", "ParquetFile", "ParquetWriter")
#: readers and the simulator read/write the user's own files (a Parquet IMU recording), not the store
USER_FILE_PARTS = ("io", "sim")


@dataclass
class Module:
    name: str  # dotted, e.g. stridelab.gait.events._foot
    path: Path
    package: str  # dotted package that holds it (itself for an __init__)
    imports: list[tuple[str, int, bool]] = field(default_factory=list)  # (target, line, module level)
    typing_imports: list[tuple[str, int, bool]] = field(default_factory=list)  # under TYPE_CHECKING
    tree: ast.Module | None = None


def _module_name(path: Path) -> tuple[str, str]:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    out.update(id(n) for n in ast.walk(child))
    return out


def _resolve(module: Module, node: ast.ImportFrom) -> str | None:
    if node.level == 0:
        return node.module
    base = module.package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


@cache
def modules() -> dict[str, Module]:
    out: dict[str, Module] = {}
    for path in sorted(SRC.rglob("*.py")):
        name, package = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        mod = Module(name, path, package, tree=tree)
        skip = _type_checking_nodes(tree)
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            into = mod.typing_imports if id(node) in skip else mod.imports
            if isinstance(node, ast.Import):
                for alias in node.names:
                    into.append((alias.name, node.lineno, id(node) in top))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(mod, node)
                if target is None:
                    continue
                into.append((target, node.lineno, id(node) in top))
                for alias in node.names:  # ``from pkg import submodule``
                    into.append((f"{target}.{alias.name}", node.lineno, id(node) in top))
        out[name] = mod
    return out


def _known(target: str) -> str | None:
    """The project module ``target`` names (or the module that defines the name), else None."""
    mods = modules()
    while target:
        if target in mods:
            return target
        target = target.rpartition(".")[0]
    return None


def _part(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rel(mod: Module) -> str:
    return str(mod.path.relative_to(SRC))


def _project_imports(mod: Module, *, typing: bool = False) -> Iterator[tuple[str, int]]:
    seen: set[tuple[str, int]] = set()
    for target, line, _ in mod.imports + (mod.typing_imports if typing else []):
        if not target.startswith("stridelab"):
            continue
        known = _known(target)
        if known is None or known == mod.name or (known, line) in seen:
            continue
        seen.add((known, line))
        yield known, line


def layer_violations() -> list[str]:
    bad = []
    for mod in modules().values():
        part = _part(mod.name)
        layer = LAYERS.get(part)
        if layer is None:
            bad.append(f"{_rel(mod)}: add its part {part!r} to LAYERS")
            continue
        for target, line in _project_imports(mod):
            tpart = _part(target)
            if tpart != part and LAYERS.get(tpart, -1) > layer:
                bad.append(f"{_rel(mod)}:{line} imports {target} (layer {LAYERS[tpart]} > {layer})")
            elif part in ONLY and tpart != part and tpart not in ONLY[part]:
                bad.append(f"{_rel(mod)}:{line} imports {target} ({part} may import only {ONLY[part]})")
    return bad


def private_cross_imports() -> list[str]:
    """A private module (``_x``) may be imported only from its own package (and that package's
    subpackages); everything else goes through the package's public ``__init__`` or public modules."""
    bad = []
    for mod in modules().values():
        for target, line in _project_imports(mod):
            parts = target.split(".")
            private = [i for i, p in enumerate(parts) if p.startswith("_") and not p.startswith("__")]
            if not private:
                continue
            owner = ".".join(parts[: private[0]])  # the package that holds the first private part
            here = mod.name if mod.package == mod.name else mod.package
            if here == owner or here.startswith(owner + "."):
                continue
            bad.append(f"{_rel(mod)}:{line} imports private {target}")
    return bad


def import_cycles() -> list[list[str]]:
    """Strongly connected components (size > 1) of the import graph, counting function-level and
    TYPE_CHECKING imports too (a lazy import does not make a cycle go away, it hides it); a module
    importing its own package's ``__init__`` from inside counts."""
    graph: dict[str, set[str]] = {}
    for mod in modules().values():
        edges = set()
        for target, _ in _project_imports(mod, typing=True):
            edges.add(target)
        graph[mod.name] = edges
    # a submodule import also executes its package's __init__: add those edges
    for name in list(graph):
        for target in list(graph[name]):
            parts = target.split(".")
            for i in range(2, len(parts)):
                parent = ".".join(parts[:i])
                if parent in graph and not name.startswith(parent + ".") and parent != name:
                    graph[name].add(parent)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


_SQL = re.compile(
    r"^\s*(select\s.+\sfrom\s|insert\s+(or\s+\w+\s+)?into\s|update\s+\w+\s+set\s|delete\s+from\s"
    r"|create\s+(temp\s+)?(table|index|unique\s+index|view|trigger)\s|drop\s+(table|index|view)\s"
    r"|alter\s+table\s|pragma\s+\w+|with\s+\w+\s+as\s*\()",
    re.IGNORECASE | re.DOTALL,
)


def _is_sql(text: str) -> bool:
    return bool(_SQL.match(text))


def storage_outside_store() -> list[str]:
    bad = []
    for mod in modules().values():
        if _part(mod.name) == "store":
            continue
        for target, line, _ in mod.imports:
            if any(target == m or target.startswith(m + ".") for m in DB_MODULES):
                bad.append(f"{_rel(mod)}:{line} imports {target}")
        assert mod.tree is not None
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("execute", "executemany", "executescript", "sql"):
                    bad.append(f"{_rel(mod)}:{node.lineno} calls .{node.func.attr}()")
                elif node.func.attr in PARQUET_CALLS and _part(mod.name) not in USER_FILE_PARTS:
                    bad.append(f"{_rel(mod)}:{node.lineno} calls .{node.func.attr}() (Parquet I/O)")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_sql(node.value):
                bad.append(f"{_rel(mod)}:{node.lineno} holds SQL {node.value.strip()[:40]!r}")
    return bad


def impure_cores() -> list[str]:
    bad = []
    for mod in modules().values():
        if _part(mod.name) not in PURE:
            continue
        for target, line in _project_imports(mod):
            if _part(target) in ("store", "services", "present"):
                bad.append(f"{_rel(mod)}:{line} imports {target}")
    return bad


def edge_shortcuts() -> list[str]:
    bad = []
    for mod in modules().values():
        if _part(mod.name) not in EDGES:
            continue
        for target, line in _project_imports(mod):
            if _part(target) in EDGE_FORBIDDEN:
                bad.append(f"{_rel(mod)}:{line} imports {target} (go through services/present)")
    return bad


def test_lower_layers_never_import_upper_ones() -> None:
    bad = layer_violations()
    assert not bad, "\n".join(bad)


def test_no_import_cycles() -> None:
    cycles = import_cycles()
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def test_no_private_cross_imports() -> None:
    bad = private_cross_imports()
    assert not bad, "\n".join(bad)


def test_store_owns_every_byte() -> None:
    bad = storage_outside_store()
    assert not bad, "\n".join(bad)


def test_cores_are_pure() -> None:
    bad = impure_cores()
    assert not bad, "\n".join(bad)


def test_edges_call_services_only() -> None:
    bad = edge_shortcuts()
    assert not bad, "\n".join(bad)


def test_the_checks_see_violations() -> None:
    """The detectors themselves: a private cross-import, SQL and a cycle are found in crafted code."""
    assert _is_sql("SELECT id FROM activities WHERE athlete = ?")
    assert _is_sql("insert into tags(a) values (?)")
    assert not _is_sql("Select the weaker side first")
    assert not _is_sql("update the plan when you are ready")
    assert not _is_sql("Drop events that fall where the sensor was still")
    assert _is_sql("CREATE TABLE IF NOT EXISTS x (a INTEGER)")
    assert _is_sql("  UPDATE plans SET active = 0 WHERE athlete = ?")
    assert not _is_sql("Create a plan")


if __name__ == "__main__":
    checks = {
        "layer violations": layer_violations(),
        "import cycles": import_cycles(),
        "private cross-imports": private_cross_imports(),
        "SQL/Parquet outside store": storage_outside_store(),
        "impure cores": impure_cores(),
        "edge shortcuts": edge_shortcuts(),
    }
    for title, items in checks.items():
        print(f"{title}: {len(items)}")
        for item in items:
            print("   ", item)
    files = {str(x).split(":")[0] for x in checks["SQL/Parquet outside store"]}
    print(f"modules with SQL/Parquet outside store: {len(files)}")
