"""The CLI loads its command modules lazily: ``--help`` lists every command without importing them (nor
pandas), a command imports only its own module, and :data:`stridelab.cli.COMMANDS` matches what the
modules register (checked in fresh interpreters through ``sys.modules``, never by timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import stridelab.cli as cli

SRC = Path(__file__).resolve().parents[2] / "src"


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)


_REPORT = """
import json, sys
from stridelab.cli import app
try:
    app(ARGS)
except SystemExit as exc:
    code = exc.code
HEAVY = ("pandas", "scipy", "pyarrow", "duckdb", "statsmodels")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
loaded = sorted(m for m in sys.modules if m.startswith("stridelab.cli.cmd_"))
print("\\nREPORT" + json.dumps({"code": code, "heavy": heavy, "loaded": loaded}))
"""


def _run(args: list[str]) -> tuple[str, dict[str, object]]:
    proc = _python(_REPORT.replace("ARGS", repr(args)))
    assert proc.returncode == 0, proc.stderr
    out, _, report = proc.stdout.rpartition("\nREPORT")
    return out, json.loads(report)


def test_the_index_matches_what_the_modules_register() -> None:
    commands = cli.load_all()
    assert list(commands) and set(commands) == set(cli.COMMANDS)
    for name, (module, help_text) in cli.COMMANDS.items():
        assert commands[name].callback is not None or hasattr(commands[name], "commands")
        assert cli.first_paragraph(commands[name]) == help_text, name
        assert module.startswith("cmd_")


def test_help_lists_every_command_without_importing_them() -> None:
    out, report = _run(["--help"])
    assert report["code"] == 0
    assert report["loaded"] == [] and report["heavy"] == []
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("│ ") and len(line.split()) > 2]
    assert [n for n in listed if n in cli.COMMANDS] == list(cli.COMMANDS)
    for name, (_module, help_text) in cli.COMMANDS.items():
        assert help_text.splitlines()[0][:40] in out, name


def test_importing_the_cli_and_version_stay_light() -> None:
    proc = _python(
        "import sys, stridelab.cli\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pandas', 'numpy', 'stridelab.cli.cmd_'))))"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    out, report = _run(["--version"])
    assert report["code"] == 0 and out.startswith("stridelab ")
    assert report["loaded"] == [] and report["heavy"] == []


def test_a_command_imports_only_its_module(tmp_path: Path) -> None:
    out, report = _run(["runs", "--store", str(tmp_path / "s")])
    assert report["code"] in (0, None), out
    assert report["loaded"] == ["stridelab.cli.cmd_core"]
    assert "No activities yet" in out
    # a command's own --help loads its module (its options are there), and only that one
    out, report = _run(["plan", "today", "--help"])
    assert report["code"] == 0 and "--today" in out
    assert report["loaded"] == ["stridelab.cli.cmd_training"]


def test_an_unknown_command_is_a_usage_error() -> None:
    proc = _python("from stridelab.cli import app\napp(['no-such-command'])")
    assert proc.returncode == 2
    assert "No such command" in proc.stderr
