"""Issue 19 part 1: the import's memory budget.

A file whose decode would exceed the budget is refused before it is read, with a reason naming the
file and the limit, whatever its compression (a stored zip member, a .fit.gz whose trailer and header
lie); the budget is configurable (``--max-memory``, ``$STRIDELAB_MAX_MEMORY_MB``); an upload is
imported in a child process under a memory limit that is enforced even when an estimate is wrong.
Peak RSS figures are measured in ``bench/memory_budget.py``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.services.import_worker import import_in_worker
from stridelab.services.imports import import_paths
from stridelab.services.memory import (
    DEFAULT_MEMORY_BUDGET_BYTES,
    ENV_MAX_MEMORY_MB,
    MIB,
    content_size,
    fit_declared_size,
    max_decodable_bytes,
)
from stridelab.sim import amplified_fit
from stridelab.store import Store

runner = CliRunner()
FIT = "dtcooper__python-fitparse/garmin-fenix-5-run.fit"
#: the largest FIT content the default budget decodes (bytes)
LIMIT = max_decodable_bytes("fit", DEFAULT_MEMORY_BUDGET_BYTES)


def _fit_header(data_size: int) -> bytes:
    body = struct.pack("<BBHI4s", 12, 0x20, 2100, data_size, b".FIT")
    return body


def _bulky_fit(size: int) -> bytes:
    """``size`` bytes that start as a FIT file declaring all of them (content does not matter: the
    budget refuses before decoding)."""
    head = _fit_header(size - 14)
    return head + bytes(range(256)) * ((size - len(head)) // 256) + b"\0" * ((size - len(head)) % 256)


def test_default_budget_decodes_real_activities_and_refuses_amplified_ones() -> None:
    # real FIT activities are < 50 MB; a 24 h run at 1 Hz is ~4 MB: far inside the budget
    assert 20 * MIB < LIMIT < 64 * MIB
    assert fit_declared_size(_fit_header(1000)) == 1014
    assert fit_declared_size(b"not a fit header") is None


def test_a_stored_zip_member_over_the_budget_is_refused_before_reading(
    tmp_path: Path, shared_data: Path
) -> None:
    """The 0.97 MB zip holding a 126 MB FIT (130:1) passed the ratio guard and was decoded at 1.95 GB
    RSS; here the member is stored (1:1, no ratio guard can catch it) and larger than the budget."""
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("huge.fit", _bulky_fit(LIMIT + 1024))
        zf.write(shared_data / "fit" / FIT, "ok.fit")
    result = import_paths(Store.open(tmp_path / "s"), [archive], workers=1)
    assert [p for p, _ in result.imported] == [f"{archive}!ok.fit"]
    [(path, reason)] = result.failed
    assert path == f"{archive}!huge.fit"
    assert reason.startswith(f"refused: {archive}!huge.fit holds ")
    assert "over the import memory budget of 600 MB" in reason and "--max-memory" in reason


def test_gzip_whose_trailer_and_header_lie_is_stopped_at_the_budget(tmp_path: Path) -> None:
    """A .fit.gz claims 1 kB (gzip ISIZE and FIT header) but expands past the budget: the read itself
    is bounded, so the lie cannot push the process over it."""
    raw = _fit_header(1000) + b"\0" * (LIMIT + 4096)
    blob = bytearray(gzip.compress(raw, compresslevel=1))
    blob[-4:] = struct.pack("<I", 1014)  # the trailer lies too
    liar = tmp_path / "liar.fit.gz"
    liar.write_bytes(bytes(blob))
    assert content_size(str(liar)) == 1014
    result = import_paths(Store.open(tmp_path / "s"), [liar], workers=1)
    [(path, reason)] = result.failed
    assert path == str(liar) and "memory budget of 600 MB" in reason, reason


def test_budget_is_configurable_by_option_and_environment(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.fit"
    big.write_bytes(_bulky_fit(max_decodable_bytes("fit", 400 * MIB) + 1024))
    ok = tmp_path / "ok.fit"
    shutil.copy(shared_data / "fit" / FIT, ok)
    store = str(tmp_path / "s")
    res = runner.invoke(app, ["import", str(big), str(ok), "--json", "--store", store, "--max-memory", "400"])
    assert res.exit_code == 1, res.output
    out = json.loads(res.stdout)
    assert out["imported"] == 1
    assert [f["path"] for f in out["failed"]] == [str(big)]
    assert "budget of 400 MB" in out["failed"][0]["error"]
    monkeypatch.setenv(ENV_MAX_MEMORY_MB, "400")
    res = runner.invoke(app, ["import", str(big), "--json", "--store", store])
    assert "budget of 400 MB" in json.loads(res.stdout)["failed"][0]["error"]
    monkeypatch.setenv(ENV_MAX_MEMORY_MB, "lots")
    res = runner.invoke(app, ["import", str(big), "--store", store])
    assert res.exit_code == 2 and "STRIDELAB_MAX_MEMORY_MB" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["import", str(big), "--store", store, "--max-memory", "10"])
    assert res.exit_code == 2


def test_upload_import_runs_in_a_child_process(tmp_path: Path, shared_data: Path) -> None:
    src = tmp_path / "upload" / "run.fit"
    src.parent.mkdir()
    shutil.copy(shared_data / "fit" / FIT, src)
    store = Store.open(tmp_path / "s")
    progress: list[tuple[int, int]] = []
    done = import_in_worker(
        store, [src], relabel=(str(src.parent), "upload/"), progress=lambda d, t, _p: progress.append((d, t))
    )
    assert done.pid != os.getpid() and not done.killed
    assert [p for p, _ in done.result.imported] == ["upload/run.fit"]
    assert progress == [(1, 1)]
    assert len(store.list_activities("me")) == 1
    assert 0 < done.peak_rss_bytes <= DEFAULT_MEMORY_BUDGET_BYTES


def test_child_over_its_memory_limit_is_stopped_and_nothing_is_stored(tmp_path: Path) -> None:
    """The backstop: the estimate lets the file through (a generous decode budget) but the child's
    resident memory crosses the limit while decoding: it is killed, the file is reported failed."""
    src = tmp_path / "upload" / "long.fit"
    src.parent.mkdir()
    src.write_bytes(amplified_fit(24 * MIB))
    store = Store.open(tmp_path / "s")
    done = import_in_worker(
        store,
        [src],
        relabel=(str(src.parent), "upload/"),
        memory_limit=256 * MIB,
        decode_budget=2048 * MIB,
    )
    assert done.killed
    [(path, reason)] = done.result.failed
    assert path == "upload/long.fit" and "memory limit of 256 MB" in reason
    assert store.list_activities("me") == []
    assert not list((store.root / "streams").rglob("*.parquet"))
