"""The read commands' shortcuts give what the long way gives (issue 15, point 2): typer's values
without pydantic, a listing's few summary keys, the stored ``analyze`` report and the run page's
split frames -- each kept only while what it was made from is unchanged. Equality, never timing."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer._coercion import build_runtime_param, resolve_type_descriptor
from typer.models import OptionInfo

from _simstore import activity_from_sim
from stridelab.analysis import reference_speed
from stridelab.cli import _coerce, load_all
from stridelab.services import analysis as analysis_service
from stridelab.services import experiments as experiments_service
from stridelab.services import splits as splits_service
from stridelab.sim import RunTruth, simulate_run
from stridelab.store import Store

_START = datetime(2026, 3, 2, 6, 30, 15, tzinfo=UTC)


# ----------------------------------------------------------------------------- typer without pydantic
_TYPES = {"str": str, "int": int, "float": float, "path": Path, "bool": bool}
_NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-99, 99).map(lambda i: f"{i:03d}"),  # leading zeros
)
_VALUES = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"[-+ ]?[0-9]{0,20}(\.[0-9]{0,16})?([eE][-+]?[0-9]{1,3})?[ ]?", fullmatch=True),
    _NUMBERS,
    _NUMBERS.map(str),
    st.booleans(),
    st.none(),
    st.just(Path("a/b")),
)


def _typers_own(kind: str, value: Any, lo: float | None, hi: float | None) -> tuple[str, Any]:
    info = OptionInfo(min=lo, max=hi) if kind in ("int", "float") else OptionInfo()
    runtime = build_runtime_param(resolve_type_descriptor(_TYPES[kind], info))
    try:
        return "ok", runtime._coerce_value(value, param=None, ctx=None)  # type: ignore[arg-type]
    except Exception as exc:
        return "error", type(exc).__name__


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    kind=st.sampled_from(sorted(_TYPES)),
    value=_VALUES,
    lo=st.one_of(st.none(), st.integers(-50, 50)),
    hi=st.one_of(st.none(), st.integers(-50, 5000)),
)
def test_plain_values_coerce_as_typers_pydantic_adapter(kind: str, value: Any, lo: Any, hi: Any) -> None:
    ours = _coerce.plain_value(kind, value, lo, hi)
    if ours is _coerce._DECLINE:
        return  # typer's own coercion answers (and words any error)
    status, theirs = _typers_own(kind, value, lo, hi)
    assert status == "ok", (kind, value, theirs)
    assert theirs == ours and type(theirs) is type(ours), (kind, value, theirs, ours)


def test_the_plain_forms_are_answered_without_typer() -> None:
    assert _coerce.plain_value("int", "12") == 12 and _coerce.plain_value("int", "-3", -5, 5) == -3
    assert _coerce.plain_value("float", "2.5") == 2.5 and _coerce.plain_value("float", 3) == 3.0
    assert _coerce.plain_value("path", "~/s") == Path("~/s") and _coerce.plain_value("str", "x") == "x"
    for kind, value, lo, hi in (
        ("int", "+5", None, None),
        ("int", "7", 8, None),
        ("float", "1e3", None, None),
    ):
        assert _coerce.plain_value(kind, value, lo, hi) is _coerce._DECLINE


def test_every_command_parameter_of_a_plain_type_skips_pydantic() -> None:
    def walk(command: Any) -> list[Any]:
        return [*command.params, *(p for sub in getattr(command, "commands", {}).values() for p in walk(sub))]

    params = [p for c in load_all().values() for p in walk(c) if hasattr(p, "type_descriptor")]
    plain = [p for p in params if _coerce._kind(p.type_descriptor, p) is not None]
    assert len(plain) > 200  # nearly all of them: str, bool, int, float, Path options
    assert all(isinstance(p._runtime_param, _coerce.PlainCoercion) for p in plain)


# ------------------------------------------------------------------------------------ a small store
def _store(root: Path, n: int = 3) -> tuple[Store, list[str]]:
    store = Store.open(root)
    ids = []
    for i in range(n):
        truth = RunTruth(
            kind="easy", start_time=_START + timedelta(days=2 * i), duration_s=600.0, warmup_s=120.0
        )
        act = activity_from_sim(simulate_run(truth, seed=i), f"read-cache-{i}")
        store.add_activity("me", act)
        ids.append(act.id)
    analysis_service.ensure_schema(store)
    return store, ids


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, list[str]]:
    return _store(tmp_path_factory.mktemp("read-caches") / "s")


def test_a_listing_reads_only_its_summary_keys_with_the_summarys_values(
    small_store: tuple[Store, list[str]],
) -> None:
    store, _ids = small_store
    full = store.list_activities("me", include_undated=True)
    keys = ["stance_time_s_mean", "has_running_dynamics", "devices", "problems", "no_such_key"]
    part = store.list_activities("me", include_undated=True, summary_keys=keys)
    assert [r.id for r in part] == [r.id for r in full]
    for a, b in zip(full, part, strict=True):
        expected = {k: a.summary[k] for k in keys if a.summary.get(k) is not None}
        assert b.summary == expected
        assert all(type(b.summary[k]) is type(v) for k, v in expected.items())  # True, not 1
        assert b.start_utc == a.start_utc and b.time_absolute == a.time_absolute
    assert isinstance(part[0].summary["has_running_dynamics"], bool)
    one = store.list_activities("me", summary_keys=["stance_time_s_mean"])
    assert [r.summary for r in one] == [{"stance_time_s_mean": r.summary["stance_time_s_mean"]} for r in full]
    assert reference_speed(full) == analysis_service.athlete_ref_speed(store, "me")
    with pytest.raises(ValueError, match="plain name"):
        store.list_activities("me", summary_keys=["a'); DROP TABLE activities; --"])


# ------------------------------------------------------------------------------- the analyze report
def test_the_analyze_report_is_kept_until_a_run_or_the_analysis_version_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, ids = _store(tmp_path / "s")
    calls: list[str] = []
    real = analysis_service.analyze_activity

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis_service, "analyze_activity", counted)
    first = analysis_service.run_report(store, "me", ids[0])
    assert calls == [ids[0]]
    again = analysis_service.run_report(store, "me", ids[0])
    assert calls == [ids[0]]  # read from the store
    assert json.dumps(again) == json.dumps(first)  # the same text printed
    assert first["ref_speed_source"] == "athlete_easy_run_median"
    assert math.isclose(first["ref_speed_m_s"], analysis_service.athlete_ref_speed(store, "me"))
    given_ref = analysis_service.run_report(store, "me", ids[0], ref_speed_m_s=3.3)
    assert given_ref["ref_speed_source"] == "option" and given_ref["ref_speed_m_s"] == 3.3
    assert len(calls) == 2  # another key

    store.delete_activity("me", ids[2])  # another run goes: the athlete's reference speed may move
    analysis_service.run_report(store, "me", ids[0])
    assert len(calls) == 3
    monkeypatch.setattr("stridelab.store.cache.ANALYSIS_VERSION", 10**6)  # a new analysis version
    analysis_service.run_report(store, "me", ids[0])
    assert len(calls) == 4
    fresh = analysis_service.run_report(store, "me", ids[0], use_cache=False)
    assert len(calls) == 5 and fresh["analysis_version"] == first["analysis_version"]


# ------------------------------------------------------------------------------ the run page's splits
def test_split_frames_are_kept_per_store_state_and_arms_read_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, ids = _store(tmp_path / "s")
    reads: list[str] = []
    real = analysis_service.load_run

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis_service, "load_run", counted)
    memo: dict[Any, Any] = {}
    lap, km = splits_service.split_tables(store, "me", ids[1], ["lap", "km"], memo=memo)
    assert reads == [ids[1]]  # one read for both tables
    for table, by in ((lap, "lap"), (km, "km")):
        alone = splits_service.run_splits(store, "me", ids[1], by=by)  # type: ignore[arg-type]
        assert table.frame.equals(alone.frame) and table.metrics == alone.metrics
        assert table.sport == alone.sport and table.arms == alone.arms == {}
    reads.clear()
    splits_service.split_tables(store, "me", ids[1], ["lap", "km"], memo=memo)
    assert reads == []  # the kept frames

    experiments_service.add_tags(store, "me", ids[1], [("cue", "push")])  # tags: read every time
    lap2, _ = splits_service.split_tables(store, "me", ids[1], ["lap", "km"], memo=memo)
    assert reads == [] and set(lap2.arms) == set(lap2.frame["number"].astype(int))
    assert all(v == ["cue=push"] for v in lap2.arms.values())

    store.delete_activity("me", ids[0])  # the store changed: the frames are made again
    splits_service.split_tables(store, "me", ids[1], ["lap", "km"], memo=memo)
    assert reads == [ids[1]]
