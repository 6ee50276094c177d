"""Duplicates across sources (issue 14, point 5): the same activity from a watch FIT, a Strava re-export
and Apple Health is one run; the richest source is primary, the others are linked to it.

Pure decisions (``stridelab.analysis``: overlap, sport family, records check, richness), the linking
service over a real store (``stridelab.services.duplicates``), the real pair of the shared corpus, and
the CLI (``runs``, ``show``, ``import --keep-duplicates``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from stridelab.analysis import (
    MIN_OVERLAP,
    SourceFacts,
    Span,
    candidate_pairs,
    choose_primaries,
    may_be_one_recording,
    recordings_agree,
    span_overlap,
    sport_family,
)
from stridelab.cli import app
from stridelab.model import Activity
from stridelab.services import analysis as analysis_service
from stridelab.services import duplicates as dup
from stridelab.services import runs as runs_service
from stridelab.services import training as training_service
from stridelab.services.imports import import_paths
from stridelab.store import Store
from stridelab.store import duplicates as links_repo

runner = CliRunner()

#: the real pair of the shared corpus (fit/MANIFEST.tsv): a Garmin vivoactive HR recording with Stryd
#: developer fields, and the same file re-encoded by GoldenCheetah, which wrote local time (UTC+2) as UTC
ORIGINAL = "GoldenCheetah__GoldenCheetah/3386684871.fit"  # 5d9c0e46..., 1440 records, 05:05:52 UTC
SAVED = "GoldenCheetah__GoldenCheetah/3386684871-saved.fit"  # f7b1e49f..., 1441 records, 07:05:51 "UTC"
ORIGINAL_ID = "5d9c0e4652686f2b046488a4f4cfa6db341edce17cb185fce0ece2b8025bee3d"
SAVED_ID = "f7b1e49f1fa5f72519a975b6d44c08bd1f1acdf100492240fb96fe74fde6c7d0"

T0 = pd.Timestamp("2026-05-01T06:00:00Z")


# ---------------------------------------------------------------------------- helpers
def _span(name: str, start_min: float, minutes: float, sport: str | None = "running") -> Span:
    return Span(name, sport, T0 + pd.Timedelta(minutes=start_min), minutes * 60.0)


def _facts(name: str, *, dyn=False, power=False, hr=False, gps=False, n=100, at="2026-01-01") -> SourceFacts:
    return SourceFacts(name, dyn, power, hr, gps, n, at)


def _activity(
    tag: str,
    start: pd.Timestamp,
    minutes: float,
    sport: str | None = "running",
    *,
    dyn: bool = False,
    power: bool = False,
    hr: bool = False,
    gps: bool = False,
    step_s: float = 5.0,
    seed: int = 1,
    fmt: str = "fit",
) -> Activity:
    """A synthetic activity: ``minutes`` long from ``start``, one record per ``step_s``, with the
    channels asked for (values depend on ``seed`` so that two seeds are two different runs)."""
    n = int(minutes * 60 / step_s) + 1
    t = np.arange(n) * step_s
    rng = np.random.default_rng(seed)
    speed = 3.0 + 0.3 * np.sin(t / (200.0 + 50 * seed)) + rng.normal(0, 0.05, n)
    data: dict[str, np.ndarray] = {
        "elapsed_s": t,
        "timer_s": t,
        "paused": np.zeros(n, dtype=bool),
        "session_index": np.zeros(n, dtype="int64"),
        "lap_index": np.zeros(n, dtype="int64"),
        "speed_m_s": speed,
        "distance_m": np.cumsum(speed * step_s),
    }
    if hr:
        data["heart_rate_bpm"] = 130 + 20 * np.sin(t / (300.0 + 40 * seed)) + rng.normal(0, 1, n)
    if power:
        data["power_w"] = 250 + rng.normal(0, 10, n)
    if dyn:
        data["stance_time_s"] = 0.25 + rng.normal(0, 0.005, n)
        data["stance_time_balance_left_pct"] = 50.5 + rng.normal(0, 0.3, n)
    if gps:
        data["lat_deg"] = 47.0 + data["distance_m"] / 111_195.0
        data["lon_deg"] = np.full(n, 8.0)
    index = pd.DatetimeIndex(start + pd.to_timedelta(t, unit="s"), name="time")
    records = pd.DataFrame(data, index=index)
    return Activity(
        id=hashlib.sha256(tag.encode()).hexdigest(),
        source_path=f"/data/{tag}.{fmt}",
        format=fmt,
        start_time=start,
        duration_s=float(t[-1]),
        elapsed_s=float(t[-1]),
        distance_m=float(data["distance_m"][-1]),
        sport=sport,
        sub_sport=None,
        records=records,
    )


def _add(store: Store, *activities: Activity, keep: bool = False) -> list[str]:
    """Store activities and link them as an import does after its commits."""
    for a in activities:
        store.add_activity("me", a)
    dup.link_imported(store, "me", [(a.source_path or "", a.id) for a in activities], keep=keep)
    return [a.id for a in activities]


def _listed(store: Store) -> set[str]:
    return {r.id for r in store.list_activities("me")}


def _links(store: Store) -> dict[str, str | None]:
    return {r.activity_id: r.primary_id for r in links_repo.links_of(store, "me")}


@pytest.fixture
def store(store_path: Path) -> Store:
    return Store.open(store_path)


@pytest.fixture
def pair(shared_data: Path, tmp_path: Path) -> list[Path]:
    out = []
    for rel in (ORIGINAL, SAVED):
        dst = tmp_path / "in" / Path(rel).name
        dst.parent.mkdir(exist_ok=True)
        shutil.copy(shared_data / "fit" / rel, dst)
        out.append(dst)
    return out


# ---------------------------------------------------------------------------- pure decisions
def test_overlap_is_the_share_of_the_shorter_span_in_common() -> None:
    a = _span("a", 0, 100)
    assert span_overlap(a, _span("b", 11, 100)) == pytest.approx(0.89)
    assert span_overlap(a, _span("b", 9, 100)) == pytest.approx(0.91)
    assert span_overlap(a, _span("b", 50, 20)) == 1.0  # contained: all of the shorter one
    assert span_overlap(a, _span("b", 100, 10)) == 0.0  # touching
    assert span_overlap(a, _span("b", 0, 0)) == 0.0  # an empty span never matches
    assert span_overlap(_span("b", 9, 100), a) == span_overlap(a, _span("b", 9, 100))  # symmetric
    assert MIN_OVERLAP == 0.9


@pytest.mark.parametrize(("offset_min", "linked"), [(11, False), (10, True), (9, True)])
def test_partial_overlap_89_vs_91_percent(offset_min: float, linked: bool) -> None:
    spans = [_span("a", 0, 100), _span("b", offset_min, 100)]
    members, pairs = candidate_pairs(spans, ["b"])
    assert bool(pairs) is linked
    links = choose_primaries([_facts("a", hr=True), _facts("b")], pairs)
    assert [(x.activity_id, x.primary_id) for x in links] == ([("b", "a")] if linked else [])
    assert members == ({"a", "b"} if linked else {"b"})


def test_sport_families() -> None:
    assert sport_family("running") == sport_family("trail_running") == sport_family("Run") == "running"
    assert sport_family("HKWorkoutActivityTypeRunning") == "running"
    assert sport_family("cycling") == sport_family("Ride") == "cycling"
    assert sport_family("hiking") == sport_family("walking")
    assert sport_family(None) is None and sport_family("generic") is None and sport_family("Other") is None
    spans = [_span("run", 0, 60), _span("ride", 0, 60, "cycling"), _span("any", 1, 58, None)]
    _, pairs = candidate_pairs(spans, ["run", "ride", "any"])
    # a run and a ride at the same time are two activities; one without a sport goes with either
    assert {(p.a, p.b) for p in pairs} == {("any", "run"), ("any", "ride")}


def test_richness_order_and_ties() -> None:
    ids = ["none", "gps", "hr", "power", "dyn"]
    facts = [
        _facts("none"),
        _facts("gps", gps=True, n=9000),
        _facts("hr", hr=True, gps=True),
        _facts("power", power=True),
        _facts("dyn", dyn=True),
    ]
    spans = [_span(i, 0, 60) for i in ids]
    _, pairs = candidate_pairs(spans, ids)
    links = choose_primaries(facts, pairs)
    expected = dict.fromkeys(["none", "gps", "hr", "power"], "dyn")
    assert {x.activity_id: x.primary_id for x in links} == expected
    assert "the primary has running dynamics" in links[0].reason
    # ties on what they have: more records, then the earliest import, then the smaller id
    tie = [_facts("x", hr=True, n=10, at="2026-01-02"), _facts("y", hr=True, n=11, at="2026-01-03")]
    _, p2 = candidate_pairs([_span("x", 0, 60), _span("y", 0, 60)], ["x"])
    assert [(x.activity_id, x.primary_id) for x in choose_primaries(tie, p2)] == [("x", "y")]
    tie = [_facts("x", hr=True, at="2026-01-02"), _facts("y", hr=True, at="2026-01-01")]
    (link,) = choose_primaries(tie, p2)
    assert (link.primary_id, "imported first" in link.reason) == ("y", True)
    # the decision does not depend on the order the facts come in
    assert choose_primaries(facts[::-1], pairs[::-1]) == links


def test_kept_activities_never_match() -> None:
    spans = [_span("a", 0, 60), Span("b", "running", T0, 3600.0, kept=True)]
    assert candidate_pairs(spans, ["a", "b"])[1] == []


def test_clock_shifted_pair_needs_the_records_check() -> None:
    spans = [_span("a", 0, 60), _span("b", 120 - 1 / 60, 60)]  # +2 h, one second off
    members, (pair,) = candidate_pairs(spans, ["a"])
    assert members == {"a", "b"} and pair.shift_s == 7200.0 and pair.needs_records
    assert candidate_pairs([_span("a", 0, 60), _span("b", 15 * 60 + 1, 60)], ["a"])[1] == []  # > 14 h
    assert candidate_pairs([_span("a", 0, 60), _span("b", 11, 60)], ["a"])[1] == []  # not a UTC offset


def test_the_catalog_prefilter_passes_copies_and_rejects_other_distances() -> None:
    def span(start_min: float, minutes: float, km: float | None) -> Span:
        return dataclasses.replace(
            _span("x", start_min, minutes), distance_m=None if km is None else km * 1e3
        )

    a = span(0, 60, 10.0)
    assert may_be_one_recording(a, span(120, 60, 10.05))  # within 100 m
    assert may_be_one_recording(a, span(120, 60.5, 10.29))  # within 3 %, lengths within 1 %
    assert not may_be_one_recording(a, span(120, 60, 10.4))  # same length, 400 m more: another run
    assert not may_be_one_recording(span(120, 60, 10.4), a)  # symmetric
    assert may_be_one_recording(a, span(120, 60, None))  # a total unknown: the records decide
    assert may_be_one_recording(a, span(120, 54, 9.0))  # other lengths: totals say nothing
    # the corpus pair (a Garmin recording and its GoldenCheetah re-save): 1441 vs 1440.668 s, 1.7 m
    orig = dataclasses.replace(Span("o", "running", T0, 1440.668), distance_m=4922.73)
    saved = dataclasses.replace(Span("s", "running", T0 + pd.Timedelta(hours=2), 1441.0), distance_m=4921.06)
    assert may_be_one_recording(orig, saved)
    # candidate_pairs leaves a rejected clock-shifted pair out (no records check waits for it)
    assert candidate_pairs([a, dataclasses.replace(span(120, 60, 10.4), id="y")], ["x"])[1] == []


def test_a_prefiltered_pair_is_decided_without_reading_streams(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two clock-shifted runs of the same length whose total distances differ by 20 %: not linked,
    and neither record stream is read (the catalog figures decide); a real re-save still is read
    and linked."""
    morning = _activity("morning", T0, 30, hr=True, gps=True, seed=3)
    other = _activity("other", T0 + pd.Timedelta(hours=2), 30, hr=True, gps=True, seed=4)
    records = other.records.copy()
    records["distance_m"] *= 1.2
    assert other.distance_m is not None
    other = dataclasses.replace(other, records=records, distance_m=other.distance_m * 1.2)
    reads: list[str] = []
    real = dup._streams.records_subset

    def counting(store: Store, athlete: str, activity_id: str, columns: object) -> pd.DataFrame:
        reads.append(activity_id)
        return real(store, athlete, activity_id, columns)  # type: ignore[arg-type]

    monkeypatch.setattr(dup._streams, "records_subset", counting)
    _add(store, morning, other)
    assert _listed(store) == {morning.id, other.id} and reads == []
    resave = _activity("resave", T0 + pd.Timedelta(hours=-3, seconds=1), 30, hr=True, gps=True, seed=3)
    _add(store, resave)
    assert sorted(reads) == sorted([morning.id, resave.id])  # the re-save passes the pre-filter
    assert _listed(store) == {morning.id, other.id}


def test_records_agree_only_for_the_same_recording() -> None:
    one = _activity("one", T0, 30, hr=True, gps=True, seed=1).records
    resaved = one.copy()
    resaved.index = resaved.index + pd.Timedelta(hours=2, seconds=-1)
    other = _activity("two", T0 + pd.Timedelta(hours=2), 30, hr=True, gps=True, seed=2).records
    assert recordings_agree(one, resaved)
    assert recordings_agree(resaved, one)
    assert not recordings_agree(one, other)
    assert not recordings_agree(one, one[["paused"]])  # no channel to compare: no evidence


# ---------------------------------------------------------------------------- the linking service
def test_three_sources_become_one_run_in_every_view(store: Store) -> None:
    fit = _activity("watch", T0, 45, dyn=True, hr=True, gps=True, step_s=1.0)
    strava = _activity("strava", T0 + pd.Timedelta(seconds=20), 45, gps=True, fmt="gpx")
    health = _activity("health", T0 - pd.Timedelta(seconds=30), 46, hr=True, power=True, fmt="apple-health")
    other = _activity("next-day", T0 + pd.Timedelta(days=1), 45, hr=True)
    _add(store, strava, health)
    assert _links(store) == {strava.id: health.id}  # before the watch file: health (power) is richer
    _add(store, fit, other)
    assert _links(store) == {strava.id: fit.id, health.id: fit.id}
    assert _listed(store) == {fit.id, other.id}
    assert {r.id for r in runs_service.list_runs(store, "me")} == {fit.id, other.id}
    assert len(store.activities_frame("me")) == 2
    assert len(store.list_activities("me", include_duplicates=True)) == 4
    # the analyses across runs, the trends (run_table) and training's run asymmetry read the same lists
    table, _ = analysis_service.run_table(store, "me", use_cache=False)
    assert set(table["id"]) == {fit.id, other.id}
    asymmetry = set(training_service.run_asymmetry(store, "me", provider=None)["activity_id"])
    assert fit.id in asymmetry and asymmetry <= {fit.id, other.id}
    info = dup.duplicate_info(store, "me", fit.id)
    assert [(d.id, d.format, d.has) for d in info.duplicates] == sorted(
        [(health.id, "apple-health", ("power", "heart rate")), (strava.id, "gpx", ("GPS",))]
    )
    back = dup.duplicate_info(store, "me", strava.id)
    assert back.duplicate_of is not None and back.duplicate_of.id == fit.id and not back.duplicates
    assert "the primary has running dynamics" in back.duplicate_of.reason


def test_order_of_imports_does_not_matter(store_path: Path, tmp_path: Path) -> None:
    acts = [
        _activity("a", T0, 30, hr=True),
        _activity("b", T0 + pd.Timedelta(minutes=2), 30, hr=True, step_s=2.0),
        _activity("c", T0 + pd.Timedelta(minutes=1), 30, gps=True),
    ]
    results = []
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        st = Store.open(tmp_path / f"s{order}")
        for i in order:
            _add(st, acts[i])
        results.append(_links(st))
    assert results[0] == results[1] == results[2] == {acts[0].id: acts[1].id, acts[2].id: acts[1].id}


def test_different_sports_and_89_percent_stay_apart(store: Store) -> None:
    run = _activity("run", T0, 100, hr=True)
    ride = _activity("ride", T0, 100, "cycling", power=True)
    late = _activity("late", T0 + pd.Timedelta(minutes=11), 100, hr=True)  # 89 % in common
    _add(store, run, ride, late)
    assert _links(store) == {}
    assert _listed(store) == {run.id, ride.id, late.id}
    near = _activity("near", T0 + pd.Timedelta(minutes=9), 100)  # 91 % with run, 98 % with late
    _add(store, near)
    assert _links(store) == {near.id: run.id}  # straight to the richest match (run, earlier import)


def test_deleting_a_primary_promotes_the_next_richest(store: Store) -> None:
    top = _activity("top", T0, 40, dyn=True)
    mid = _activity("mid", T0, 40, power=True)
    low = _activity("low", T0, 40, gps=True)
    _add(store, top, mid, low)
    assert _listed(store) == {top.id}
    dup.delete_run(store, "me", top.id)
    assert _listed(store) == {mid.id}
    assert _links(store) == {low.id: mid.id}
    # a plain delete of the store never hides anything: the duplicates' links go with their primary
    store.delete_activity("me", mid.id)
    assert _listed(store) == {low.id} and _links(store) == {}


def test_keep_duplicates_marks_the_import(store: Store) -> None:
    a = _activity("a", T0, 30, hr=True)
    b = _activity("b", T0, 30, gps=True)
    _add(store, a)
    _add(store, b, keep=True)
    assert _listed(store) == {a.id, b.id}
    c = _activity("c", T0, 30)  # a later import in the same window links c, never b
    _add(store, c)
    assert _links(store) == {b.id: None, c.id: a.id}


def test_relink_is_idempotent_and_writes_nothing_when_unchanged(store: Store) -> None:
    a, b = _activity("a", T0, 30, hr=True), _activity("b", T0, 30)
    _add(store, a, b)
    before = links_repo.links_fingerprint(store, "me")
    assert dup.relink(store, "me", [a.id, b.id]) == dup.relink(store, "me", [b.id])
    assert links_repo.links_fingerprint(store, "me") == before


def test_an_old_store_without_the_table_opens_and_gets_it(store_path: Path) -> None:
    st = Store.open(store_path)
    a, b = _activity("a", T0, 30, hr=True), _activity("b", T0, 30)
    st.add_activity("me", a)
    st.add_activity("me", b)
    st.close()
    conn = sqlite3.connect(store_path / "catalog.sqlite")  # as a store from before the duplicates
    conn.execute("DROP TABLE activity_links")
    conn.execute("DELETE FROM schema_versions WHERE namespace = 'duplicates'")
    conn.commit()
    conn.close()
    assert len(Store(store_path).list_activities("me")) == 2  # even opened without Store.open
    st = Store.open(store_path)
    assert st.schema_version("duplicates") == 1
    assert len(st.list_activities("me")) == 2  # nothing linked until an import or relink
    dup.relink(st, "me", [a.id])
    assert _listed(st) == {a.id}


# ---------------------------------------------------------------------------- the real pair
def test_corpus_pair_is_one_run_and_the_original_recording_is_primary(
    pair: list[Path], store_path: Path
) -> None:
    st = Store.open(store_path)
    res = import_paths(st, pair, workers=1)
    assert sorted(i for _, i in res.imported) == sorted([ORIGINAL_ID, SAVED_ID])
    # GoldenCheetah's re-save starts 2 h (minus 1 s) later: local time written as UTC, 0 % overlap in UTC;
    # same records once each is read from its own start. Both have power (Stryd's developer field in
    # the original, native power in the re-save), heart rate and GPS; the re-save has one record more,
    # but it names no device (manufacturer 0): the watch's own recording (Garmin vivoactive HR, the
    # right clock) is primary.
    assert _listed(st) == {ORIGINAL_ID}
    (link,) = links_repo.links_of(st, "me")
    assert (link.activity_id, link.primary_id) == (SAVED_ID, ORIGINAL_ID)
    assert "clock shifted by +2:00 h" in link.reason and "named device" in link.reason
    assert st.activity("me", ORIGINAL_ID).start_time.strftime("%H:%M:%S") == "05:05:52"
    again = import_paths(st, pair, workers=1)  # idempotent: skipped, same link, nothing rewritten
    assert len(again.skipped) == 2 and not again.imported
    assert links_repo.links_of(st, "me") == [link]


def test_corpus_pair_cli(pair: list[Path], tmp_path: Path) -> None:
    s = str(tmp_path / "s")
    res = runner.invoke(app, ["import", *map(str, pair), "--json", "--store", s])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["linked"] == [{"id": SAVED_ID, "duplicate_of": ORIGINAL_ID}]
    runs = json.loads(runner.invoke(app, ["runs", "--json", "--store", s]).stdout)
    assert [(r["id"], r["duplicates"]) for r in runs] == [(ORIGINAL_ID, [SAVED_ID])]
    shown = json.loads(runner.invoke(app, ["show", "5d9c0e46", "--json", "--store", s]).stdout)
    assert shown["duplicate_of"] is None
    (d,) = shown["duplicates"]
    assert (d["id"], d["format"], Path(d["source_path"]).name) == (SAVED_ID, "fit", "3386684871-saved.fit")
    assert d["has"] == ["power", "heart rate", "GPS"]
    shown = json.loads(runner.invoke(app, ["show", "f7b1e49f", "--json", "--store", s]).stdout)
    assert shown["duplicates"] == [] and shown["duplicate_of"]["id"] == ORIGINAL_ID
    text = runner.invoke(app, ["show", "f7b1e49f", "--store", s], env={"COLUMNS": "250"}).stdout
    assert "duplicate of" in text and "5d9c0e465268" in text
    text = runner.invoke(app, ["show", "5d9c0e46", "--store", s], env={"COLUMNS": "250"}).stdout
    assert "duplicates" in text and "f7b1e49f1fa5" in text


def test_corpus_pair_keep_duplicates(pair: list[Path], tmp_path: Path) -> None:
    s = str(tmp_path / "s")
    res = runner.invoke(app, ["import", *map(str, pair), "--keep-duplicates", "--json", "--store", s])
    assert res.exit_code == 0 and json.loads(res.stdout)["linked"] == []
    runs = json.loads(runner.invoke(app, ["runs", "--json", "--store", s]).stdout)
    assert sorted(r["id"] for r in runs) == sorted([ORIGINAL_ID, SAVED_ID])
    runner.invoke(app, ["import", *map(str, pair), "--json", "--store", s])  # re-import: still apart
    assert len(json.loads(runner.invoke(app, ["runs", "--json", "--store", s]).stdout)) == 2


def test_a_clock_shifted_resave_is_linked_but_a_second_run_is_not(store: Store) -> None:
    morning = _activity("morning", T0, 30, hr=True, gps=True, seed=3)
    resave = _activity("resave", T0 + pd.Timedelta(hours=2, seconds=-1), 30, hr=True, gps=True, seed=3)
    later = _activity("later", T0 + pd.Timedelta(hours=5), 30, hr=True, gps=True, seed=4)  # same loop
    _add(store, morning, resave, later)
    assert _listed(store) == {morning.id, later.id}
    (link,) = links_repo.links_of(store, "me")
    assert link.activity_id in (morning.id, resave.id) and "clock shifted" in link.reason


# ---------------------------------------------------------------------------- properties
_sports = st.sampled_from(["running", "trail_running", "cycling", None])


@st.composite
def _population(draw: st.DrawFn) -> tuple[list[Span], list[SourceFacts]]:
    n = draw(st.integers(1, 9))
    spans, facts = [], []
    for i in range(n):
        start = draw(st.integers(0, 240))  # minutes: many overlaps
        length = draw(st.integers(0, 90))
        spans.append(_span(f"a{i}", start, length, draw(_sports)))
        flags = draw(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()))
        facts.append(
            SourceFacts(f"a{i}", *flags, draw(st.integers(1, 5)), f"2026-01-0{draw(st.integers(1, 3))}")
        )
    return spans, facts


def _decide(spans: list[Span], facts: list[SourceFacts], seeds: list[str]) -> tuple[set[str], set[tuple]]:
    members, pairs = candidate_pairs(spans, seeds)
    chosen = choose_primaries([f for f in facts if f.id in members], pairs)
    return members, {(x.activity_id, x.primary_id) for x in chosen}


@settings(max_examples=60)
@given(_population(), st.data())
def test_recomputing_the_affected_set_equals_recomputing_everything(pop, data) -> None:  # type: ignore[no-untyped-def]
    spans, facts = pop
    everything = [s.id for s in spans]
    _, full = _decide(spans, facts, everything)
    seeds = data.draw(st.lists(st.sampled_from(everything), min_size=1, unique=True))
    members, part = _decide(spans, facts, seeds)
    # the affected set is closed: no pair crosses its border, and deciding it alone gives the same links
    assert part == {(a, p) for a, p in full if a in members or p in members}
    assert all((a in members) == (p in members) for a, p in full)
    # the decision depends on the set, not on the order anything comes in
    assert _decide(spans[::-1], facts[::-1], everything[::-1])[1] == full
    # every duplicate is linked straight to its primary through a match of >= 90 % of the shorter span
    # (direct, or after a clock shift), and a primary is never a duplicate
    by_id = {s.id: s for s in spans}
    matched = {frozenset((m.a, m.b)): m for m in candidate_pairs(spans, everything)[1]}
    for a, p in full:
        m = matched[frozenset((a, p))]
        first, second = (by_id[m.a], by_id[m.b])
        assert span_overlap(first, second, m.shift_s) >= MIN_OVERLAP
    assert not {p for _, p in full} & {a for a, _ in full}


def test_a_failing_link_keeps_the_import_and_reports_a_warning(pair: list[Path], tmp_path: Path) -> None:
    """Linking runs after the commits: when it fails (here a real SQLite trigger refuses every link),
    the activities stay imported, listed on their own, and the import reports it (exit code 1)."""
    s = tmp_path / "s"
    _refuse_links(s)
    res = runner.invoke(app, ["import", *map(str, pair), "--json", "--store", str(s)])
    assert res.exit_code == 1, res.output
    out = json.loads(res.stdout)
    assert out["imported"] == 2 and not out["failed"]
    assert "not linked" in out["link_warning"] and "links refused [by a test]" in out["link_warning"]
    runs = json.loads(runner.invoke(app, ["runs", "--json", "--store", str(s)]).stdout)
    assert sorted(r["id"] for r in runs) == sorted([ORIGINAL_ID, SAVED_ID])
    t = tmp_path / "t"
    _refuse_links(t)
    text = runner.invoke(app, ["import", *map(str, pair), "--store", str(t)], env={"COLUMNS": "300"})
    assert text.exit_code == 1
    assert "links refused [by a test]" in text.stdout  # printed as text, never as Rich markup


def _refuse_links(path: Path) -> None:
    Store.open(path).close()
    conn = sqlite3.connect(path / "catalog.sqlite")
    conn.execute(
        "CREATE TRIGGER refuse_links BEFORE INSERT ON activity_links "
        "BEGIN SELECT RAISE(ABORT, 'links refused [by a test]'); END"
    )
    conn.commit()
    conn.close()
