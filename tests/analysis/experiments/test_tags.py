"""Tags on runs, laps and time ranges: parsing, storage, listing, removal, labels per run."""

from __future__ import annotations

import pytest
from _exp_helpers import lap_run_truth, store_runs

from stridelab.services.experiments import (
    TagError,
    add_tags,
    list_tags,
    parse_clock,
    parse_laps,
    parse_tag,
    remove_tags,
    tags_for_runs,
)
from stridelab.store import Store, UnknownIdError


def test_parsers() -> None:
    assert parse_tag("cue=push-behind") == ("cue", "push-behind")
    assert parse_tag(" cue = pull-up ") == ("cue", "pull-up")
    assert parse_laps("1,3,5") == [0, 2, 4]
    assert parse_laps("2-4, 7") == [1, 2, 3, 6]
    assert parse_clock("10:00") == 600.0
    assert parse_clock("1:02:03") == 3723.0
    assert parse_clock("90") == 90.0
    for bad in ("cue", "=x", "cue=", "1cue=x", "cue=a b"):
        with pytest.raises(TagError):
            parse_tag(bad)
    for bad in ("0", "3-1", "a", ""):
        with pytest.raises(TagError):
            parse_laps(bad)
    for bad in ("10:75", "x", "-5"):
        with pytest.raises(TagError):
            parse_clock(bad)


def test_tag_run_laps_and_range_roundtrip(store: Store) -> None:
    (rid,) = store_runs(store, [lap_run_truth([0, 1, 0, 1], 0.0, 0)])
    tags, warnings = add_tags(store, "me", rid[:8], [("cue", "push-behind")], laps=[1, 3])
    assert warnings == []
    assert [(t.scope, t.lap_number, t.value) for t in tags] == [
        ("lap", 2, "push-behind"),
        ("lap", 4, "push-behind"),
    ]
    add_tags(store, "me", rid, [("cue", "pull-up")], laps=[2, 4])
    add_tags(store, "me", rid, [("shoes", "fly3")])
    rng, _ = add_tags(store, "me", rid, [("surface", "track")], from_s=600.0, to_s=1200.0)
    assert rng[0].label() == "surface=track@10:00-20:00"
    # re-tagging a lap replaces its value for that key
    add_tags(store, "me", rid, [("cue", "pull-up")], laps=[1])
    by_lap = {t.lap_number: t.value for t in list_tags(store, "me", run_id=rid, key="cue")}
    assert by_lap == {2: "pull-up", 3: "pull-up", 4: "push-behind", 5: "pull-up"}
    labels = tags_for_runs(store, "me", [rid, "0" * 64])
    assert labels["0" * 64] == []
    assert labels[rid] == sorted(
        ["cue=pull-up@lap2,3,5", "cue=push-behind@lap4", "shoes=fly3", "surface=track@10:00-20:00"]
    )
    assert remove_tags(store, "me", rid, "cue=pull-up", laps=[1]) == 1
    assert remove_tags(store, "me", rid, "cue") == 3
    assert remove_tags(store, "me", rid) == 2
    assert list_tags(store, "me", run_id=rid) == []


def test_bad_tag_input_is_refused_clearly(store: Store) -> None:
    (rid,) = store_runs(store, [lap_run_truth([0, 1], 0.0, 0)])
    with pytest.raises(TagError, match="has 3 lap"):
        add_tags(store, "me", rid, [("cue", "a")], laps=[5])
    with pytest.raises(TagError, match="after --from"):
        add_tags(store, "me", rid, [("cue", "a")], from_s=600.0, to_s=300.0)
    with pytest.raises(TagError, match="both"):
        add_tags(store, "me", rid, [("cue", "a")], from_s=600.0)
    with pytest.raises(TagError, match="after the end"):
        add_tags(store, "me", rid, [("cue", "a")], from_s=99_000.0, to_s=99_100.0)
    with pytest.raises(UnknownIdError):
        add_tags(store, "me", "ffff0000", [("cue", "a")])
    assert list_tags(store, "me") == []


def test_tag_on_run_without_dynamics_warns_and_tags_follow_deletion(store: Store) -> None:
    (rid,) = store_runs(store, [lap_run_truth([0, 1], 0.0, 0, sensor="none")])
    tags, warnings = add_tags(store, "me", rid, [("cue", "a")])
    assert len(tags) == 1
    assert warnings and "no running dynamics" in warnings[0]
    store.delete_activity("me", rid)
    assert list_tags(store, "me") == []
