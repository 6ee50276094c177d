"""Issue 19, part 2 (and the --json errors of part 6): text from files, paths and users reaches the
terminal escaped -- Rich markup printed as written, ANSI escapes and control characters replaced --
through the real CLI, and pages escape it (Jinja autoescape); under ``--json`` errors are JSON."""

from __future__ import annotations

import asyncio
import json
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from stridelab.cli import app
from stridelab.io.fit import write_activity_fit
from stridelab.model import Activity, DeveloperColumn
from stridelab.present.text import REPLACEMENT, markup, plain
from stridelab.web import WebConfig, create_app

#: what a hostile file carries: a closing tag (MarkupError before the fix), styles, a terminal title
#: change (OSC), a colour (CSI), a bell, a C1 control, a bidi override and HTML
PRODUCT = "Fen[/]ix [bold red]x \x1b[31mRED\x1b[0m\x07\x9b2J\u202e <img src=x onerror=alert(1)>"
FIELD = "po[/]wer\x1b]0;evil title\x07[link=https://evil.example]"
BAD_BYTES = ("\x1b", "\x07", "\x9b", "\u202e")


def _crafted_fit(folder: Path) -> Path:
    t = pd.date_range("2025-03-01 07:00", periods=120, freq="1s", tz="UTC", name="time")
    rec = pd.DataFrame(
        {
            "speed_m_s": np.full(120, 3.0),
            "distance_m": np.arange(120) * 3.0,
            "heart_rate_bpm": np.full(120, 150.0),
            "dev_app0_x": np.full(120, 250.0),
        },
        index=t,
    )
    activity = Activity(
        id="0" * 64,
        source_path=None,
        format="fit",
        start_time=t[0],
        duration_s=119.0,
        elapsed_s=119.0,
        distance_m=357.0,
        sport="running",
        sub_sport=None,
        records=rec,
        manufacturer="development",
        product=PRODUCT,
        developer_columns=(DeveloperColumn("dev_app0_x", "app0", FIELD, "[red]W", 0, 0),),
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "run \x1b[2Jclear\x07.fit"
    path.write_bytes(write_activity_fit(activity))
    return path


@pytest.fixture
def crafted() -> Iterator[tuple[Path, Path]]:
    """A folder whose path holds ``[/]`` (a folder ``x[`` with a sub-folder ``]y``) with the crafted
    FIT file and a damaged file named with markup and escapes. Under a short temporary folder, not
    ``tmp_path``: the tests read paths back from tables, and a long path (pytest-xdist's) wraps there."""
    with tempfile.TemporaryDirectory(prefix="e") as short:
        folder = Path(short) / "x[" / "]y [bold]"
        fit = _crafted_fit(folder)
        (folder / "bad [red] \x1b[31mname.fit").write_bytes(b"\x0e\x10\x00\x00" + b"\x00" * 40)
        yield folder, fit


def _clean(text: str) -> None:
    for bad in BAD_BYTES:
        assert bad not in text, repr(bad)


def test_import_and_show_print_foreign_text_as_written(crafted: tuple[Path, Path], tmp_path: Path) -> None:
    folder, _ = crafted
    store = str(tmp_path / "store")
    runner = CliRunner()
    res = runner.invoke(app, ["import", str(folder), "--store", store, "--workers", "1"])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == 1, res.output  # one file failed (listed), one imported
    _clean(res.output)
    flat = res.output.replace("\n", "").replace("│", "").replace(" ", "")
    assert "x[/]y[bold]" in flat  # the path as written, in the failed-files table
    assert "bad[red]" in flat

    runs = runner.invoke(app, ["runs", "--store", store, "--json"])
    (run,) = json.loads(runs.stdout)
    res = runner.invoke(app, ["show", run["id"][:8], "--store", store])
    assert res.exit_code == 0, repr(res.exception)
    _clean(res.output)
    assert "Fen[/]ix [bold red]x" in res.output  # markup printed, not interpreted
    assert f"{REPLACEMENT}[31mRED" not in res.output  # the whole CSI sequence went, not only ESC
    assert "po[/]wer" in res.output and "[link=https://evil.example]" in res.output
    res = runner.invoke(app, ["runs", "--store", store])
    assert res.exit_code == 0 and "x[/]y" not in res.output  # the list shows no path; it renders
    shown = runner.invoke(app, ["show", run["id"][:8], "--store", store, "--json"])
    assert json.loads(shown.stdout)["product"] == PRODUCT  # JSON keeps the value (controls escaped)


def test_dashboard_page_escapes_file_text(crafted: tuple[Path, Path], tmp_path: Path) -> None:
    from stridelab.services import open_store
    from stridelab.services.imports import import_paths

    folder, fit = crafted
    named = folder / "<img src=x onerror=alert(1)> run.fit"
    fit.rename(named)
    store = open_store(tmp_path / "store")
    result = import_paths(store, [named], workers=1)
    (activity_id,) = [i for _, i in result.imported]
    application = create_app(WebConfig(store_path=store.root, background_analysis=False))

    async def pages() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as c:
            return await c.get(f"/runs/{activity_id}"), await c.get("/")

    page, listing = asyncio.run(pages())
    assert page.status_code == 200
    assert "<img src=x" not in page.text  # autoescaped
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert listing.status_code == 200 and "<img src=x" not in listing.text


def test_json_errors_are_objects(tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "store")
    for args, code, kind in (
        (["show", "abcd", "--store", store, "--json"], 2, "bad_input"),
        (["show", "--json"], 2, "usage_error"),
        (["runs", "--since", "[/]\x1b[2J", "--store", store, "--json"], 2, "bad_input"),
        (["restore", str(tmp_path / "nothing"), "--store", store, "--json"], 1, "restore_failed"),
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == code, (args, res.output)
        err = json.loads(res.stdout)["error"]
        assert err["code"] == kind and isinstance(err["message"], str) and err["message"], args
        _clean(err["message"])
    res = runner.invoke(app, ["runs", "--since", "[/]\x1b[2J", "--store", store])  # text mode
    assert res.exit_code == 2 and "[/]" in res.output and "\x1b" not in res.output


@given(st.text(max_size=40))
def test_markup_renders_back_to_plain_text(text: str) -> None:
    console = Console(file=None, width=400, color_system=None, record=True)
    with console.capture() as cap:  # inside markup of our own: shown exactly as written
        console.print(f"[bold]{markup(text)}[/bold]", end="", soft_wrap=True, highlight=False)
    assert cap.get() == plain(text)  # no markup interpreted, nothing lost but controls
    with console.capture() as cap:  # alone: the same, but Rich doubles a trailing backslash run
        console.print(markup(text), end="", soft_wrap=True, highlight=False)
    tail = len(plain(text)) - len(plain(text).rstrip("\\"))
    assert cap.get() == plain(text) + "\\" * tail
    bidi = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert not [c for c in plain(text) if unicodedata.category(c) == "Cc" or c in bidi]
