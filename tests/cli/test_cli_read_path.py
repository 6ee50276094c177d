"""The read path stays light (issue 15, point 2): heavy libraries are bound lazily
(:mod:`stridelab.lazy`), a catalog row keeps its start as text until ``start_time`` is read, dates are
formatted without pandas -- with the same results as the pandas path. Checked through ``sys.modules``
in fresh interpreters and by equality with pandas, never by timing."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from _simstore import activity_from_sim
from stridelab.lazy import LazyModule, lazy_module
from stridelab.present import format as pfmt
from stridelab.present.runs import run_item_json
from stridelab.sim import RunTruth, simulate_run
from stridelab.store import Store

SRC = Path(__file__).resolve().parents[2] / "src"
_START = datetime(2026, 3, 2, 6, 30, 15, tzinfo=UTC)

# ------------------------------------------------------------------------------------------- lazy


def test_a_lazy_module_imports_on_the_first_attribute_read() -> None:
    code = (
        "import sys\n"
        "from stridelab.lazy import lazy_module\n"
        "m = lazy_module('fractions')\n"
        "before = 'fractions' in sys.modules\n"
        "f = m.Fraction(1, 3)\n"
        "import fractions\n"
        "print(before, 'fractions' in sys.modules, isinstance(f, fractions.Fraction),\n"
        "      m.Fraction is fractions.Fraction)"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True", "True", "True"]


def test_a_lazy_module_forwards_everything_to_the_real_one() -> None:
    lazy = lazy_module("pandas")
    assert isinstance(lazy, LazyModule) and "not imported yet" in repr(lazy)
    assert not hasattr(lazy, "__wrapped__")  # a probe of the proxy does not import
    assert "not imported yet" in repr(lazy)
    assert lazy.Timestamp is pd.Timestamp and lazy.DataFrame is pd.DataFrame
    assert isinstance(pd.Timestamp("2026-01-01"), lazy.Timestamp)
    assert "imported" in repr(lazy) and "DataFrame" in dir(lazy)
    assert vars(lazy)["Series"] is pd.Series  # later reads are plain attribute reads, no call
    assert lazy.__version__ == pd.__version__  # once imported, dunders are forwarded too
    missing = lazy_module("stridelab_no_such_module")
    try:
        missing.anything  # noqa: B018
    except ModuleNotFoundError as exc:
        assert "stridelab_no_such_module" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a missing module must raise on first use")


# -------------------------------------------------------------------------------- dates, as pandas


def _day_time_by_pandas(ts: Any) -> str:  # the former implementations, kept as the reference
    return str(pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M"))


def _local_by_pandas(ts: Any, tz: Any = None, utc_offset_s: Any = None) -> str:
    t = pd.Timestamp(ts)
    if t.tzinfo is None:
        t = t.tz_localize("UTC")
    if pfmt.is_finite(utc_offset_s):
        zone: Any = timezone(timedelta(seconds=int(utc_offset_s)))
    else:
        zone = tz if tz is not None else datetime.now().astimezone().tzinfo
    local = t.tz_convert(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


_times = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31))
_offsets = st.one_of(st.none(), st.integers(-14 * 3600, 14 * 3600).map(lambda s: s - s % 60))


@settings(max_examples=150, deadline=None)
@given(
    t=_times,
    aware=st.booleans(),
    as_text=st.sampled_from(["iso", "catalog", "datetime", "pandas"]),
    off=_offsets,
)
def test_dates_print_as_pandas_printed_them(t: datetime, aware: bool, as_text: str, off: int | None) -> None:
    if aware:
        t = t.replace(tzinfo=UTC)
    value: Any = {
        "iso": t.isoformat(),
        "catalog": t.strftime("%Y-%m-%dT%H:%M:%S.%f") + ("Z" if aware else ""),
        "datetime": t,
        "pandas": pd.Timestamp(t),
    }[as_text]
    assert pfmt.day_time(value) == _day_time_by_pandas(value)
    assert pfmt.day(value) == str(pd.Timestamp(value).strftime("%Y-%m-%d"))
    assert pfmt.local_day_time(value, utc_offset_s=off) == _local_by_pandas(value, utc_offset_s=off)
    for tz in (timezone(timedelta(hours=-5)), "Europe/Paris", "America/New_York"):
        assert pfmt.local_day_time(value, tz) == _local_by_pandas(value, tz)


def test_odd_times_still_go_through_pandas() -> None:
    nanos = "2026-03-02T06:30:15.123456789+00:00"  # more digits than datetime holds
    assert pfmt.day_time(nanos) == _day_time_by_pandas(nanos) == "2026-03-02 06:30"
    stamp = pd.Timestamp(nanos).to_datetime64()
    assert pfmt.day(stamp) == "2026-03-02"
    assert pfmt.day(None) == pfmt.DASH


# ------------------------------------------------------------------------------------ catalog rows


def _store_with_runs(root: Path, n: int) -> tuple[Store, list[str]]:
    store = Store.open(root)
    ids = []
    for i in range(n):
        truth = RunTruth(
            kind="easy", start_time=_START + timedelta(days=2 * i), duration_s=600.0, warmup_s=120.0
        )
        act = activity_from_sim(simulate_run(truth, seed=i), f"read-path-{i}")
        store.add_activity("me", act)
        ids.append(act.id)
    return store, ids


def test_a_catalog_row_reads_its_start_as_it_did(tmp_path: Path) -> None:
    store, ids = _store_with_runs(tmp_path / "s", 2)
    fresh, other = store.list_activities("me")
    assert fresh.start_utc == _START and fresh.start_utc.tzinfo is not None  # no Timestamp built
    stamp = fresh.start_time
    assert isinstance(stamp, pd.Timestamp) and stamp == pd.Timestamp(_START) and str(stamp.tz) == "UTC"
    assert fresh.start_time is stamp  # converted once, kept
    assert fresh.start_utc == stamp.to_pydatetime()
    again = store.activity("me", ids[0])  # its start still text: equal all the same
    assert again == fresh and again != other
    assert dataclasses.asdict(again)["start_time"] == stamp
    assert dataclasses.replace(again, sport="cycling").start_time == stamp
    assert store.lap_count("me", ids[0]) == len(store.laps("me", ids[0]))


_COMMANDS = [
    ["runs"],
    ["runs", "--json"],
    ["show", "ID"],
    ["trend"],
    ["baseline"],
    # last: the cold trend analyses the other runs, which renews every result derived from the runs
    ["analyze", "ID", "--json"],
    ["analyze", "ID"],
]

_SCRIPT = """
import contextlib, io, json, sys
from stridelab.cli import app
outputs = []
for args in ARGS:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            app(args)
        except SystemExit as exc:
            assert exc.code in (0, None), (args, exc.code)
    outputs.append(buf.getvalue())
HEAVY = ("pandas", "scipy", "pyarrow", "duckdb", "statsmodels", "numpy", "pydantic", "jsonschema")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
print("\\nREPORT" + json.dumps({"outputs": outputs, "heavy": heavy}))
"""


def _run_all(commands: list[list[str]]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT.replace("ARGS", repr(commands))],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report: dict[str, Any] = json.loads(proc.stdout.rpartition("\nREPORT")[2])
    return report


def test_warm_read_commands_import_no_pandas(tmp_path: Path) -> None:
    store, ids = _store_with_runs(tmp_path / "s", 3)
    commands = [
        [a.replace("ID", ids[1][:10]) for a in args] + ["--store", str(tmp_path / "s")] for args in _COMMANDS
    ]
    cold = _run_all(commands)  # analyses every run once and keeps the results
    warm = _run_all(commands)
    assert warm["heavy"] == [], warm["heavy"]
    assert warm["outputs"] == cold["outputs"]  # what the cache serves is what was computed
    listed = json.loads(warm["outputs"][1])
    rows = store.list_activities("me")
    assert listed == json.loads(json.dumps([run_item_json(r, []) for r in rows]))
    assert [item["start_time"] for item in listed] == [
        pd.Timestamp(r.start_time).isoformat().replace("+00:00", "Z") for r in rows
    ]


def test_warm_status_imports_no_pandas_or_numpy(tmp_path: Path) -> None:
    """The home is kept in the store: a warm ``status`` reads it without the data stack (its ``--today``
    option, a datetime, still goes through typer's own coercion, hence no pydantic check here)."""
    _store_with_runs(tmp_path / "s", 3)
    commands = [["status", "--store", str(tmp_path / "s")]]
    cold = _run_all(commands)
    warm = _run_all(commands)
    data_stack = ("pandas", "numpy", "scipy", "pyarrow", "statsmodels")
    assert [m for m in warm["heavy"] if m.split(".")[0] in data_stack] == []
    assert warm["outputs"] == cold["outputs"]
    assert "balance" in warm["outputs"][0].lower()
