"""The compiled scanner loop and the lazily decoded message types give what the plain paths give.

The scanner's compiled loop (``_scankernel``) is checked against the Python walk it replaces on every
FIT file of the shared corpus, on hypothesis mutations of corpus files (damage, truncation, garbage)
and on built files that exercise each of its exits (definitions re-sent before every message,
compressed timestamps, reserved header bits, a new definition mid-file, a full output buffer, a
message running past the data). Lazily decoded message types equal eagerly built ones, and an engine
failure while decoding one late still becomes a problem of the file (lenient) or a FitDecodeError
(strict).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_fit import (
    ENUM,
    FIT_EPOCH_S,
    RECORD_FIELDS,
    T0,
    UINT8,
    UINT32,
    data,
    definition,
    file_id,
    fit_file,
    record,
    sdk_messages,
)

import stridelab.io.fit._builder as builder
import stridelab.io.fit._scankernel as scankernel
from stridelab.io.fit._decoder import INTERNAL_ERROR, read_fit
from stridelab.io.fit._scankernel import COMPILED_AFTER
from stridelab.io.fit._scanner import Scanner
from stridelab.io.fit._types import FitDecodeError


def _walk(blob: bytes, compiled: bool | None, strict: bool = False) -> tuple[Any, ...]:
    scan = Scanner(blob, strict, "test.fit", compiled=compiled)
    scan.run()
    return (
        [(d.gnum, d.size, d.offset, d.little, scan.positions(d).tolist()) for d in scan.defs],
        sorted(scan.compressed),
        [(p.kind, p.offset, p.message) for p in scan.problems],
        {pos: sorted(map(str, raw.items())) for pos, raw in scan.special_raw.items()},
        scan.seq_starts,
        scan.registry.epoch_offsets,
    )


def _same_walks(blob: bytes) -> None:
    plain = _walk(blob, compiled=False)
    assert _walk(blob, compiled=True) == plain
    assert _walk(blob, compiled=None) == plain


def test_compiled_walk_equals_the_python_walk_on_the_corpus(shared_data: Path) -> None:
    files = sorted((shared_data / "fit").rglob("*.fit"))
    assert len(files) >= 130
    for path in files:
        _same_walks(path.read_bytes())


_SEEDS = [
    "Runalyze__Runalyze/Suunto-Ambit-3-Peak-without-final-lap.fit",  # re-sent definitions
    "dtcooper__python-fitparse/compressed-speed-distance.fit",  # compressed timestamps
    "GoldenCheetah__GoldenCheetah/Fr955v19.28andStryd.fit",  # developer fields
    "dtcooper__python-fitparse/activity-activity-filecrc.fit",  # chained
    "tormoder__fit/mornindew-broken.fit",  # damaged
]


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed=st.integers(0, len(_SEEDS) - 1),
    cut=st.integers(2_000, 60_000),
    flips=st.lists(st.tuples(st.integers(0, 59_999), st.integers(0, 255)), max_size=6),
)
def test_compiled_walk_equals_the_python_walk_on_damaged_files(
    shared_data: Path, seed: int, cut: int, flips: list[tuple[int, int]]
) -> None:
    blob = bytearray((shared_data / "fit" / _SEEDS[seed]).read_bytes()[:cut])
    for at, value in flips:
        if at < len(blob):
            blob[at] = value
    _same_walks(bytes(blob))
    for mode in (False, True):  # strict: the same first fault raises
        try:
            _walk(bytes(blob), compiled=mode, strict=True)
            raised = None
        except FitDecodeError as exc:
            raised = (str(exc), exc.offset)
        if mode is False:
            expected = raised
    assert raised == expected


def _alternating(n: int) -> bytes:
    """record and event definitions alternate on local type 0 (like Suunto files), with compressed
    timestamp records, reserved header bits and a definition first met late: every exit of the
    compiled loop."""
    event_def = definition(0, 21, [(253, 4, UINT32), (0, 1, ENUM), (1, 1, ENUM)])
    body = file_id() + definition(2, 20, [(3, 1, UINT8)])
    for i in range(n):
        body += definition(0, 20, RECORD_FIELDS) + record(0, T0 + 4 * i, 100 + i % 50, 2000, 2600, 10 * i)
        body += event_def + data(0, [(UINT32, T0 + 4 * i), (ENUM, 0), (ENUM, 0 if i % 2 else 4)])
        body += bytes([0x80 | (2 << 5) | ((T0 + 4 * i + 1) & 0x1F), 120 + i % 30])  # compressed
        if i % 97 == 5:  # an event whose header has reserved bit 4 set (local 0 is the event now)
            body += bytes([0x10]) + data(0, [(UINT32, T0 + 4 * i), (ENUM, 0), (ENUM, 1)])[1:]
        if i == n // 2:  # a definition first met in the middle (local 3: a lap)
            body += definition(3, 19, [(253, 4, UINT32)]) + data(3, [(UINT32, T0 + 4 * i)])
    return fit_file(body)


def test_compiled_walk_takes_over_a_file_that_defeats_run_detection() -> None:
    n = COMPILED_AFTER  # ~3 n Python steps: the compiled loop takes over after COMPILED_AFTER
    blob = _alternating(n)
    _same_walks(blob)
    assert scankernel.loaded()
    scan = Scanner(blob, True, None)
    scan.run()
    assert scan._tables is not None and scan._tables.pos_chunks  # the compiled loop ran
    assert len(scan._tables.pos_chunks) > 1  # its output buffer filled at least once
    fit = read_fit(blob, strict=True)  # (the SDK does not read compressed timestamps)
    rec = fit.messages["record"]
    assert len(rec) == 2 * n
    hr = [v for i in range(n) for v in (100 + i % 50, 120 + i % 30)]
    assert list(rec["heart_rate"]) == hr
    secs = [int(t.timestamp()) - FIT_EPOCH_S for t in rec["timestamp"]]
    assert secs == [t for i in range(n) for t in (T0 + 4 * i, T0 + 4 * i + 1)]
    assert len(fit.messages["event"]) == n + len(range(5, n, 97))
    assert len(fit.messages["lap"]) == 1
    assert not fit.problems


def test_compiled_walk_decodes_resent_definitions_like_the_sdk() -> None:
    event_def = definition(0, 21, [(253, 4, UINT32), (0, 1, ENUM), (1, 1, ENUM)])
    body = file_id()
    for i in range(COMPILED_AFTER):
        body += definition(0, 20, RECORD_FIELDS) + record(0, T0 + i, 100 + i % 50, 2000 + i, 2600, 10 * i)
        body += event_def + data(0, [(UINT32, T0 + i), (ENUM, 0), (ENUM, 0 if i % 2 else 4)])
    blob = fit_file(body)
    _same_walks(blob)
    fit, sdk = read_fit(blob, strict=True), sdk_messages(blob)
    rec, ev = fit.messages["record"], fit.messages["event"]
    assert len(rec) == len(sdk["record_mesgs"]) == COMPILED_AFTER == len(ev)
    assert list(rec["heart_rate"]) == [m["heart_rate"] for m in sdk["record_mesgs"]]
    assert list(rec["speed"]) == [m["speed"] for m in sdk["record_mesgs"]]
    assert list(ev["event_type"]) == [m["event_type"] for m in sdk["event_mesgs"]]


def test_the_compiled_loop_is_loaded_once_the_process_spent_as_much_in_python_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blob = _alternating(COMPILED_AFTER)
    monkeypatch.setattr(scankernel, "_KERNEL", [])  # a process that has not loaded the loop yet
    monkeypatch.setattr(scankernel, "_PENDING_STEPS", [0])
    first = Scanner(blob, False, None)
    first.run()
    assert first._tables is None and not scankernel.loaded()  # below the budget: Python walk only
    spent = scankernel._PENDING_STEPS[0]
    assert spent >= COMPILED_AFTER  # counted in blocks of COMPILED_AFTER steps
    monkeypatch.setattr(scankernel, "LOAD_AFTER_STEPS", spent + 1)
    second = Scanner(blob, False, None)
    second.run()
    assert second._tables is not None and scankernel.loaded()  # the budget is spent: loaded, used
    third = Scanner(blob, False, None)
    third.run()
    assert third._tables is not None  # loaded: every such file uses it after COMPILED_AFTER steps
    plain = _walk(blob, compiled=False)
    for scan in (first, second, third):
        assert [scan.positions(d).tolist() for d in scan.defs] == [p[4] for p in plain[0]]
        assert sorted(scan.compressed) == plain[1]


@pytest.mark.parametrize("cut", [1, 3, 7, 40])
def test_compiled_walk_reports_a_message_running_past_the_data(cut: int) -> None:
    blob = _alternating(COMPILED_AFTER)
    body_end = len(blob) - 2
    cut_blob = blob[: body_end - cut]
    plain = _walk(cut_blob, compiled=False)
    assert plain[2] and plain[2][-1][0] == "truncated"
    assert _walk(cut_blob, compiled=True) == plain


def test_other_message_types_are_decoded_on_first_access_with_the_same_values(shared_data: Path) -> None:
    blob = (shared_data / "fit" / "GoldenCheetah__GoldenCheetah/Fr955v19.28andStryd.fit").read_bytes()
    lazy = read_fit(blob)
    assert "not decoded yet" in repr(lazy.messages)  # reading records decoded nothing else
    _ = lazy.messages["record"]
    assert "not decoded yet" in repr(lazy.messages)
    again = read_fit(blob)
    for name in reversed(list(again.messages)):  # another order of first access: same frames
        _ = again.messages[name]
    assert list(lazy.messages) == list(again.messages)
    for name in lazy.messages:
        a, b = lazy.messages[name], again.messages[name]
        assert list(a.columns) == list(b.columns), name
        assert a.astype(str).equals(b.astype(str)), name
    assert lazy.problems == again.problems
    assert "not decoded yet" not in repr(lazy.messages)
    fresh = read_fit(blob)  # rows and columns of a type not yet decoded
    laps = fresh.rows("lap")
    assert len(laps) == len(again.get("lap")) > 0
    assert laps[0]["total_distance"] == again.get("lap")["total_distance"].iloc[0]
    assert fresh.columns("session")[0] == len(again.get("session")) > 0


def test_a_failure_while_decoding_a_type_late_is_a_problem_or_strict_error(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = (shared_data / "fit" / "dtcooper__python-fitparse/activity-small-fenix2-run.fit").read_bytes()
    real_build = builder.MessageBuilder.build

    def failing_build(self: builder.MessageBuilder) -> Any:
        if self.gnum == 19:  # lap
            raise ValueError("boom")
        return real_build(self)

    monkeypatch.setattr(builder.MessageBuilder, "build", failing_build)
    fit = read_fit(blob)
    assert len(fit.messages["record"]) > 0 and not fit.problems
    assert fit.messages["lap"].empty
    assert [p.kind for p in fit.problems] == ["other"]
    assert INTERNAL_ERROR in fit.problems[0].message and "lap" in fit.problems[0].message
    strict = read_fit(blob, strict=True)
    with pytest.raises(FitDecodeError, match=INTERNAL_ERROR):
        _ = strict.messages["lap"]
    assert np.isfinite(strict.messages["record"]["heart_rate"].to_numpy(dtype=float)).any()


def test_a_process_decoding_a_few_files_does_not_import_numba(shared_data: Path) -> None:
    """One CLI command (or an import worker of files scanned in runs) never pays numba's import."""
    import os
    import subprocess
    import sys

    paths = [str(shared_data / "fit" / rel) for rel in _SEEDS]
    code = (
        "import sys\nfrom stridelab.io.fit import read_fit\n"
        f"for p in {paths!r}:\n    read_fit(p).messages['record']\n"
        "print('numba' in sys.modules)\n"
    )
    src = str(Path(__file__).resolve().parents[3] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False"]


def test_a_late_engine_failure_is_listed_among_the_activity_problems(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stridelab.io.fit import read_activity

    blob = (shared_data / "fit" / "dtcooper__python-fitparse/activity-small-fenix2-run.fit").read_bytes()
    real_build = builder.MessageBuilder.build

    def failing_build(self: builder.MessageBuilder) -> Any:
        if self.gnum == 23:  # device_info: read last by activity_from_fit
            raise ValueError("boom")
        return real_build(self)

    monkeypatch.setattr(builder.MessageBuilder, "build", failing_build)
    activity = read_activity(blob)
    assert any(INTERNAL_ERROR in p and "device_info" in p for p in activity.problems)
    assert len(activity.records) > 0
