"""Issue 19, part 5: ``stridelab backup`` while a real dashboard on 127.0.0.1 serves and writes and an
import commits runs, then ``stridelab restore``: verified (checksums, integrity), atomic, refusing to
replace a store without --force; and part 6: token mode never redirects to another site."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import threading
from pathlib import Path

import httpx
import pytest
from _web_support import LiveServer
from typer.testing import CliRunner

from stridelab.cli import app as cli_app
from stridelab.services import open_store
from stridelab.services.doctor import run_doctor
from stridelab.services.imports import import_paths
from stridelab.web import WebConfig, create_app

FIRST = ("garmin-fenix-5-run.fit", "garmin-fenix-5-walk.fit", "2015-10-13-08-43-15.fit")
DURING = (
    "2013-02-06-12-11-14.fit",
    "sample-activity-indoor-trainer.fit",
    "20170518-191602-1740899583.fit",
    "event_timestamp.fit",
    "sample-activity.fit",
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cli(*args: str) -> tuple[int, dict[str, object]]:
    res = CliRunner().invoke(cli_app, [*args, "--json"])
    return res.exit_code, json.loads(res.stdout)


def test_backup_while_serving_then_verified_atomic_restore(shared_data: Path, tmp_path: Path) -> None:
    fit = shared_data / "fit" / "dtcooper__python-fitparse"
    store = open_store(tmp_path / "store")
    assert len(import_paths(store, [fit / n for n in FIRST], workers=1).imported) == len(FIRST)
    runs_before = len(store.list_activities("me", include_undated=True))
    backup = tmp_path / "backup"
    application = create_app(WebConfig(store_path=store.root, background_analysis=False))
    errors: list[str] = []
    posted: list[int] = []
    stop = threading.Event()
    with LiveServer(application) as server, httpx.Client(base_url=server.url, timeout=60.0) as c:
        token = c.get("/api/csrf").json()["csrf_token"]

        def hammer() -> None:  # the dashboard's writer commits balance tests the whole time
            n = 0
            while not stop.is_set():
                r = c.post(
                    "/api/tests", json={"side": "left", "seconds": 10 + n}, headers={"X-CSRF-Token": token}
                )
                if r.status_code != 200:
                    errors.append(f"POST /api/tests {r.status_code}")
                posted.append(n)
                n += 1
                if c.get("/api/runs").status_code != 200:
                    errors.append("GET /api/runs")

        def importer() -> None:  # another writer commits runs (streams first, then catalog rows)
            other = open_store(store.root)
            for name in DURING:
                import_paths(other, [fit / name], workers=1)

        threads = [threading.Thread(target=hammer), threading.Thread(target=importer)]
        for t in threads:
            t.start()
        try:
            while not posted:  # the server is writing when the snapshot starts
                stop.wait(0.01)
            code, out = _cli("backup", str(backup), "--store", str(store.root))
        finally:
            threads[1].join()
            stop.set()
            threads[0].join()
        assert code == 0, out
        assert not errors, errors[:5]
    runs_after = len(store.list_activities("me", include_undated=True))
    assert runs_after == len(FIRST) + len(DURING)
    manifest = json.loads((backup / "manifest.json").read_text())
    assert runs_before <= manifest["runs"] <= runs_after
    assert manifest["runs"] == out["runs"] and len(manifest["streams"]) == out["streams"]

    # restore into a new place: verified, every run with its stream, the balance tests of the snapshot
    restored = tmp_path / "restored"
    code, res = _cli("restore", str(backup), "--store", str(restored))
    assert code == 0 and res["runs"] == manifest["runs"] and res["replaced"] is False, res
    back = open_store(restored)
    report = run_doctor(back)
    assert report.healthy, [f.to_json() for f in report.findings]
    assert len(back.list_activities("me", include_undated=True)) == manifest["runs"]
    for row in back.list_activities("me", include_undated=True):
        assert len(back.records("me", row.id)) == row.n_records
    n_tests = back.connect().execute("SELECT count(*) FROM training_balance_tests").fetchone()[0]
    assert 1 <= n_tests <= len(posted)

    # a non-empty store is not replaced without --force: nothing changes
    catalog = restored / "catalog.sqlite"
    back.connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    back.close()
    before = _sha(catalog)
    code, res = _cli("restore", str(backup), "--store", str(restored))
    assert code == 1 and res["error"]["code"] == "restore_failed" and "--force" in res["error"]["message"]
    assert _sha(catalog) == before

    # a damaged backup does not verify, and the store it would replace is untouched
    broken = tmp_path / "broken"
    shutil.copytree(backup, broken)
    victim = broken / sorted(manifest["streams"])[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    code, res = _cli("restore", str(broken), "--store", str(restored), "--force")
    assert code == 1 and "checksum mismatch" in res["error"]["message"], res
    assert _sha(catalog) == before

    # --force replaces it in one swap, leaving nothing half-done behind
    code, res = _cli("restore", str(backup), "--store", str(restored), "--force")
    assert code == 0 and res["replaced"] is True, res
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folders left
    assert run_doctor(open_store(restored)).healthy


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/trends", "/trends?x=1"),
        ("/runs/a b", "/runs/a%20b?x=1"),
    ],
)
def test_token_redirect_stays_on_this_site(tmp_path: Path, path: str, expected: str) -> None:
    token = "t0k3n-" + "a" * 30
    application = create_app(
        WebConfig(store_path=tmp_path / "store", host="0.0.0.0", token=token, background_analysis=False)
    )

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://192.168.1.20:8765") as c:
            url = httpx.URL("http://192.168.1.20:8765", path=path, params={"token": token, "x": "1"})
            return await c.get(url)

    r = asyncio.run(get())
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert location.split("?")[0] == expected.split("?")[0]
