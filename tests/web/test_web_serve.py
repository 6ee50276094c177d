"""``stridelab serve`` as a real process, a CLI import running alongside it, the one writer, the docs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from _web_support import EXTRA_RUNS, SEASON_RUNS, Demo, free_port
from typer.testing import CliRunner

from _hang import HANG_GUARD_S
from stridelab.cli import app as cli_app
from stridelab.web._writer import PRIORITY_BACKGROUND, PRIORITY_USER, Writer

REPO = Path(__file__).resolve().parents[2]


def test_serve_refuses_the_network_without_a_token(store_copy: Path) -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--store", str(store_copy)])
    assert result.exit_code == 2
    assert "without a token" in result.output


def _wait_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = HANG_GUARD_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve did not come up")


def test_serve_contract_with_a_cli_import_running_alongside(
    store_copy: Path, demo: Demo, tmp_path: Path
) -> None:
    """`stridelab serve --port P --store S` serves the contract; a CLI import in another process while
    the server reads and writes works (no lock errors) and the new runs appear on refresh."""
    port = free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "stridelab", "serve", "--port", str(port), "--store", str(store_copy)]
    log = tmp_path / "serve.log"
    with log.open("wb") as log_fh:
        proc = subprocess.Popen(cmd, stdout=log_fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, proc, log)
        with httpx.Client(base_url=url, timeout=30.0) as c:
            for path in (
                "/",
                "/runs/" + c.get("/api/runs").json()[0]["id"],
                "/trends",
                "/plan",
                "/tests",
                "/import",
            ):
                assert c.get(path).status_code == 200, path
            runs = c.get("/api/runs").json()
            assert len(runs) == SEASON_RUNS
            assert {"id", "start_time", "distance_m", "balance_mean_left_pct"} <= set(runs[0])
            token = c.get("/api/csrf").json()["csrf_token"]

            errors: list[str] = []
            stop = threading.Event()

            def hammer() -> None:  # readers and the server's writer busy during the import
                n = 0
                while not stop.is_set():
                    try:
                        for path in ("/api/runs", "/", "/api/trends"):
                            r = c.get(path)
                            if r.status_code != 200:
                                errors.append(f"{path}: {r.status_code} {r.text[:200]}")
                        r = c.post(
                            "/api/tests",
                            json={"side": "left" if n % 2 else "right", "seconds": 10 + n},
                            headers={"X-CSRF-Token": token},
                        )
                        if r.status_code != 200:
                            errors.append(f"POST /api/tests: {r.status_code} {r.text[:200]}")
                        n += 1
                    except httpx.HTTPError as exc:
                        errors.append(repr(exc))

            worker = threading.Thread(target=hammer)
            worker.start()
            try:
                imp = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "stridelab",
                        "import",
                        str(demo.extra_dir),
                        "--store",
                        str(store_copy),
                        "--json",
                        "--workers",
                        "1",
                    ],
                    capture_output=True,
                    env=env,
                    cwd=REPO,
                    timeout=120,
                )
            finally:
                stop.set()
                worker.join(30)
            assert imp.returncode == 0, imp.stderr.decode()[-2000:]
            assert json.loads(imp.stdout)["imported"] == EXTRA_RUNS
            assert not errors, errors[:5]
            assert len(c.get("/api/runs").json()) == SEASON_RUNS + EXTRA_RUNS  # on refresh
            assert c.get("/api/tests").json()["tests"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    err = log.read_text()
    assert "stridelab dashboard: " in err and f"127.0.0.1:{port}" in err
    assert "database is locked" not in err and "Traceback" not in err, err[-2000:]


def test_the_writer_runs_user_jobs_first_and_reports_errors() -> None:
    writer = Writer()
    order: list[str] = []
    gate = threading.Event()
    try:
        blocker = writer.submit(gate.wait)  # occupies the thread while the queue fills
        time.sleep(0.05)
        bg = [writer.submit(lambda i=i: order.append(f"bg{i}"), PRIORITY_BACKGROUND) for i in range(3)]
        user = writer.submit(lambda: order.append("user"), PRIORITY_USER)
        gate.set()
        blocker.result(5)
        user.result(5)
        for f in bg:
            f.result(5)
        assert order == ["user", "bg0", "bg1", "bg2"]
        threads: set[int | None] = set()
        for _ in range(3):
            writer.submit(lambda: threads.add(threading.get_ident())).result(5)
        assert threads == {writer.thread_ident}  # one writer thread
        with pytest.raises(ZeroDivisionError):
            writer.submit(lambda: 1 / 0).result(5)
    finally:
        writer.close()
    with pytest.raises(RuntimeError):
        writer.submit(lambda: None)


def test_docs_describe_every_serve_option() -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    assert result.exit_code == 0
    options = set(re.findall(r"(--[a-z][a-z-]+)", result.output)) - {"--help"}
    doc = (REPO / "docs" / "web.md").read_text()
    missing = sorted(o for o in options if o not in doc)
    assert not missing, f"docs/web.md does not describe {missing}"


def test_network_mode_prints_the_link_and_a_qr_code(capsys: pytest.CaptureFixture[str]) -> None:
    from stridelab.cli.cmd_web import _print_access

    token = "k" * 32
    _print_access("http://192.168.1.20:8765", token)
    out = capsys.readouterr().out
    assert f"http://192.168.1.20:8765/?token={token}" in out
    assert "█" in out or "▀" in out  # the QR code, drawn with block characters
