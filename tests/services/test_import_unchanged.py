"""A re-import of an unchanged folder is answered by the source cache alone
(``stridelab.services.import_unchanged``): the same result as the full import, and no reader, pandas,
pyarrow or numpy imported by the ``import`` command; anything it cannot vouch for (a changed file, a
zip) goes down the full path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from stridelab.services.import_unchanged import unchanged_import
from stridelab.services.imports import import_paths
from stridelab.store import Store

FILES = [
    "dtcooper__python-fitparse/activity-small-fenix2-run.fit",
    "Runalyze__Runalyze/Fenix-2-pauses.fit",
    "tormoder__fit/mornindew-broken.fit",  # damaged: imported with a warning, then known too
]
HEAVY = ("pandas", "pyarrow", "numpy", "numba", "scipy", "stridelab.io", "stridelab.services.imports")

#: runs the CLI in this interpreter and reports which heavy modules it imported
_PROBE = (
    """
import json, runpy, sys
sys.argv = ["stridelab", *sys.argv[1:]]
code = 0
try:
    runpy.run_module("stridelab", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "heavy": [m for m in HEAVY if m in sys.modules]}), file=sys.stderr)
"""
).replace("HEAVY", repr(HEAVY))


@pytest.fixture
def folder(shared_data: Path, tmp_path: Path) -> Path:
    out = tmp_path / "in"
    (out / "sub").mkdir(parents=True)
    for k, rel in enumerate(FILES):
        shutil.copy(shared_data / "fit" / rel, (out / "sub" if k else out) / Path(rel).name)
    return out


def _cli(*args: str) -> tuple[dict[str, object], dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=env, timeout=120
    )
    probe = json.loads(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout), probe


def test_reimport_of_an_unchanged_folder_imports_no_decoding_stack(folder: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "s")
    first, probe = _cli("import", str(folder), "--store", store, "--json", "--workers", "1")
    assert first["imported"] == len(FILES) and "pandas" in probe["heavy"]  # the full path ran
    again, probe = _cli("import", str(folder), "--store", store, "--json")
    assert probe == {"code": 0, "heavy": []}
    assert again["skipped"] == len(FILES) and again["imported"] == 0 and again["failed"] == []


def test_the_cache_answer_equals_the_full_import(folder: Path, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s")
    assert unchanged_import(store, [folder]) is None  # nothing known yet
    import_paths(store, [folder], workers=1)
    quick = unchanged_import(store, [folder])
    full = import_paths(store, [folder], workers=1)
    assert quick is not None and quick.skipped == full.skipped and len(full.skipped) == len(FILES)
    assert quick.to_json() | {"seconds": 0} == full.to_json() | {"seconds": 0}
    explicit = [folder / Path(FILES[0]).name]
    quick_one, full_one = unchanged_import(store, explicit), import_paths(store, explicit, workers=1)
    assert quick_one is not None and quick_one.skipped == full_one.skipped
    assert unchanged_import(store, [folder], athlete="someone") is None  # known for "me" only
    # a changed mtime, a new file, a zip: not vouched for, the full path decides
    victim = folder / Path(FILES[0]).name
    st = victim.stat()
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert unchanged_import(store, [folder]) is None
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert unchanged_import(store, [folder]) is not None
    with zipfile.ZipFile(folder / "sub" / "more.zip", "w") as zf:
        zf.write(victim, "x.fit")
    assert unchanged_import(store, [folder]) is None
