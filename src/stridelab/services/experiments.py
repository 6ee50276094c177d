"""Tags, N-of-1 experiments and the personal baseline: what the CLI and the web offer.

Tags: :func:`add_tags`, :func:`list_tags`, :func:`remove_tags`, :func:`tags_for_runs` (labels per run
id for every place runs are listed). Experiments: :func:`create_experiment`, :func:`get_experiment`,
:func:`list_experiments`, :func:`delete_experiment`, :func:`experiment_overview` (cheap rows for lists),
:func:`analyze_experiment` (-> :class:`ExperimentResult`, ``.to_dict()`` is the
``experiment analyze --json`` contract), :func:`protocol_text`. Baseline: :func:`baseline_rows`
(-> :class:`BaselineRow` list, ``.to_dict()`` rows of ``baseline --json``).

Composes the store's repositories (:mod:`stridelab.store.tags`, :mod:`stridelab.store.experiments`),
the catalog and the per-run analysis (the *seams* below) and the pure cores of
:mod:`stridelab.analysis`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from stridelab.analysis import (
    DESIGNS,
    EXPERIMENT_METRICS,
    BaselineRow,
    BlockValue,
    Comparison,
    DesignName,
    Experiment,
    ExperimentError,
    ExperimentResult,
    Explanation,
    RunAnalysis,
    Tag,
    TagError,
    analyze_blocks,
    baseline_record,
    baseline_runs,
    block_specs,
    check_definition,
    decisive_looks,
    load_ratios,
    make_protocol,
    order_blocks,
    overview_row,
    parse_clock,
    parse_laps,
    parse_selector,
    parse_tag,
    phase_window,
    planned_length,
    protocol_text,
    run_blocks,
    tag_labels,
    tag_targets,
    weekly_loads_km,
)
from stridelab.lazy import lazy_module
from stridelab.store import ActivityRow, Store, StoreError
from stridelab.store import experiments as experiments_repo
from stridelab.store import tags as tags_repo

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

__all__ = [
    "DESIGNS",
    "EXPERIMENT_METRICS",
    "BaselineRow",
    "Comparison",
    "DesignName",
    "Experiment",
    "ExperimentError",
    "ExperimentResult",
    "Explanation",
    "Tag",
    "TagError",
    "add_tags",
    "analyze_experiment",
    "baseline_report",
    "baseline_rows",
    "create_experiment",
    "decisive_flags",
    "delete_experiment",
    "experiment_blocks",
    "experiment_overview",
    "experiment_report",
    "flagged",
    "get_experiment",
    "list_experiments",
    "list_tags",
    "parse_clock",
    "parse_laps",
    "parse_tag",
    "planned_runs",
    "protocol_text",
    "remove_tags",
    "tags_for_runs",
]


# ---------------------------------------------------------------------------------------------- seams
# Every read of the catalog, of a run's records and of the per-run analysis goes through one of these
# small functions, so that the areas that own them (store/activities, store/cache, services/analysis)
# can be re-pointed here in one place.
def _activity(store: Store, athlete: str, run_id: str) -> ActivityRow:
    """The catalog row of run ``run_id`` (id or prefix)."""
    return store.activity(athlete, run_id)


def _resolve(store: Store, athlete: str, run_id: str) -> str:
    """The full id of run ``run_id`` (id or prefix)."""
    return store.resolve_id(athlete, run_id)


def _lap_count(store: Store, athlete: str, activity_id: str) -> int:
    return len(store.laps(athlete, activity_id))


def _runs(
    store: Store, athlete: str, *, since: pd.Timestamp | None = None, until: pd.Timestamp | None = None
) -> list[ActivityRow]:
    """The runs of the catalog (what the running analysis applies to), in catalog order."""
    from stridelab.analysis import is_run

    return [a for a in store.list_activities(athlete, since=since, until=until) if is_run(a)]


def _load_run(store: Store, athlete: str, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """A run's records, laps and start time."""
    from stridelab.services.analysis import load_run

    records, laps, row = load_run(store, athlete, run_id)
    return records, laps, row.start_time


def _ref_speed(store: Store, athlete: str) -> float | None:
    """The athlete's reference (easy) speed, m/s."""
    from stridelab.services.analysis import athlete_ref_speed

    return athlete_ref_speed(store, athlete)


def _run_table(
    store: Store,
    athlete: str,
    *,
    until: pd.Timestamp | None,
    ref_speed_m_s: float | None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, float | None, dict[str, RunAnalysis]]:
    """One row per run (see ``run_table``), the reference speed used and each run's analysis (the
    cached ones read in one query)."""
    from stridelab.services.analysis import athlete_ref_speed, run_analyses, table_of_analyses

    ref = ref_speed_m_s if ref_speed_m_s is not None else athlete_ref_speed(store, athlete)
    analyses = run_analyses(store, athlete, until=until, progress=progress)
    by_id = {act.id: a for act, a, _ in analyses if a is not None}
    return table_of_analyses(analyses, ref), ref, by_id


# ---------------------------------------------------------------------------------------------- tags
def add_tags(
    store: Store,
    athlete: str,
    run_id: str,
    tags: Sequence[tuple[str, str]],
    *,
    laps: Sequence[int] | None = None,
    from_s: float | None = None,
    to_s: float | None = None,
) -> tuple[list[Tag], list[str]]:
    """Tag run ``run_id`` (id or prefix) with ``(key, value)`` pairs; returns the stored tags and
    warnings (e.g. the run has no running dynamics, so it cannot feed an experiment).

    ``laps`` are 0-based lap indexes (they must exist in the run); ``from_s``/``to_s`` a timer-time
    range (both or neither; not together with ``laps``). A key already set on the same run / lap /
    range gets the new value. Raises :class:`TagError` (bad input) or ``StoreError`` (no such run).
    """
    tags_repo.ensure_tags_schema(store)
    activity = _activity(store, athlete, run_id)
    full_id = activity.id
    needs_laps = laps is not None and from_s is None and to_s is None
    scope, targets, warnings = tag_targets(
        full_id[:8],
        laps=laps,
        from_s=from_s,
        to_s=to_s,
        duration_s=activity.duration_s or activity.elapsed_s,
        n_laps=_lap_count(store, athlete, full_id) if needs_laps else None,
        has_running_dynamics=bool(activity.summary.get("has_running_dynamics", True)),
    )
    return tags_repo.write_tags(store, athlete, full_id, tags, scope, targets), warnings


def list_tags(
    store: Store,
    athlete: str,
    *,
    run_id: str | None = None,
    key: str | None = None,
    value: str | None = None,
) -> list[Tag]:
    """Tags of ``athlete`` (optionally of one run, one key, one value), by run, scope, lap, time."""
    return tags_repo.list_tags(store, athlete, run_id=run_id, key=key, value=value)


def remove_tags(
    store: Store,
    athlete: str,
    run_id: str,
    selector: str | None = None,
    *,
    laps: Sequence[int] | None = None,
) -> int:
    """Remove tags of one run: all, those of a key (``"cue"``) or of a key and value (``"cue=pull"``),
    optionally only on the given 0-based ``laps``. Returns how many were removed."""
    tags_repo.ensure_tags_schema(store)
    full_id = _resolve(store, athlete, run_id)
    key, value = parse_selector(selector)
    return tags_repo.delete_tags(store, athlete, full_id, key=key, value=value, laps=laps)


def tags_for_runs(store: Store, athlete: str, ids: Iterable[str]) -> dict[str, list[str]]:
    """Tag labels of each run id (full ids), for every place runs are listed: ``cue=push-behind``,
    ``cue=push-behind@lap1,3,5``, ``cue=pull-up@10:00-20:00``; runs without tags map to ``[]``."""
    wanted = list(dict.fromkeys(ids))
    return tag_labels(tags_repo.tags_of_runs(store, athlete, wanted), wanted)


# ---------------------------------------------------------------------------------------------- experiments
def create_experiment(
    store: Store,
    athlete: str,
    name: str,
    arms: Sequence[str] | str,
    design: str,
    *,
    tag_key: str = "cue",
    seed: int | None = None,
    runs: int | None = None,
    blocks_per_run: int | None = None,
    block_m: float | None = None,
    change_date: str | None = None,
    window_days: int | None = None,
    phase_days: int | None = None,
    primary: str = "balance",
) -> Experiment:
    """Define and store an experiment; the arm order is randomised with ``seed`` (recorded; drawn from
    the OS when not given); ``primary`` is the one metric that gets a verdict (stored in the protocol;
    the others are reported as exploratory). Raises :class:`ExperimentError` on bad input or a
    duplicate name."""
    name, pair, checked, change_date = check_definition(
        name, arms, design, tag_key=tag_key, change_date=change_date
    )
    seed = int(seed) if seed is not None else secrets.randbelow(2**31)
    experiments_repo.ensure_experiments_schema(store)
    proto = make_protocol(
        checked,
        pair,
        seed,
        tag_key=tag_key,
        runs=runs,
        blocks_per_run=blocks_per_run,
        block_m=block_m,
        ref_speed_m_s=_ref_speed(store, athlete),
        change_date=change_date,
        window_days=window_days,
        phase_days=phase_days,
        primary=primary,
    )
    exp = Experiment(name, checked, tag_key, pair, seed, proto, pd.Timestamp.now(tz="UTC").isoformat())
    experiments_repo.insert_experiment(store, athlete, exp)
    return exp


def get_experiment(store: Store, athlete: str, name: str) -> Experiment:
    """The experiment ``name``; :class:`ExperimentError` (naming the known ones) when there is none."""
    exp = experiments_repo.find_experiment(store, athlete, name)
    if exp is None:
        known = [e.name for e in experiments_repo.list_experiments(store, athlete)]
        hint = f" (known: {', '.join(repr(k) for k in known)})" if known else " (none defined yet)"
        raise ExperimentError(f"No experiment named {name!r}{hint}")
    return exp


def list_experiments(store: Store, athlete: str) -> list[Experiment]:
    """Every experiment of ``athlete``, oldest first (definitions only; see :func:`analyze_experiment`)."""
    return experiments_repo.list_experiments(store, athlete)


def delete_experiment(store: Store, athlete: str, name: str) -> bool:
    """Delete an experiment definition (its tags stay). True when it existed."""
    return experiments_repo.delete_experiment(store, athlete, name)


def experiment_blocks(
    store: Store, athlete: str, exp: Experiment, *, metrics: Sequence[str] = tuple(EXPERIMENT_METRICS)
) -> tuple[list[BlockValue], list[float] | None, list[str]]:
    """The experiment's blocks from the tagged runs (and, for before-after, each block's weekly load
    in km), plus messages about everything left out."""
    tags = tags_repo.list_tags(store, athlete, key=exp.tag_key)
    window = phase_window(exp)
    phase_runs = (
        [(a.id, a.start_time) for a in _runs(store, athlete, since=window[0], until=window[1])]
        if window
        else []
    )
    per_run, messages = block_specs(exp, tags, phase_runs)
    blocks: list[BlockValue] = []
    tagged_starts: dict[str, pd.Timestamp] = {}
    for run_id, specs in per_run.items():
        try:
            records, laps, start = _load_run(store, athlete, run_id)
        except (StoreError, OSError, ValueError) as exc:
            messages.append(f"run {run_id[:8]}: cannot be read ({exc}); left out")
            continue
        tagged_starts[run_id] = pd.Timestamp(start)
        got, msgs = run_blocks(exp, run_id, specs, records, laps, start, metrics=metrics)
        blocks += got
        messages += msgs
    blocks = order_blocks(exp, blocks, tagged_starts)
    loads: list[float] | None = None
    if exp.design == "before-after" and blocks:
        by_run = weekly_loads_km(_runs(store, athlete), {b.run_id: b.run_start for b in blocks})
        loads = [by_run[b.run_id] for b in blocks]
    return blocks, loads, messages


def analyze_experiment(
    store: Store, athlete: str, name: str, *, metrics: Sequence[str] = tuple(EXPERIMENT_METRICS)
) -> ExperimentResult:
    """Gather the tagged blocks of experiment ``name`` and compare its arms on every metric: a verdict
    on the primary metric at the level of this look (alpha spending), the others exploratory with
    Holm-adjusted p-values, the tags checked against the protocol's order."""
    exp = get_experiment(store, athlete, name)
    wanted = list(dict.fromkeys([exp.primary, "balance", *metrics]))
    blocks, loads, messages = experiment_blocks(store, athlete, exp, metrics=wanted)
    return analyze_blocks(exp, blocks, loads_km=loads, messages=messages, metrics=wanted)


def planned_runs(exp: Experiment) -> int:
    """The runs the experiment's protocol plans."""
    return planned_length(exp)[1]


def decisive_flags(exp: Experiment) -> list[bool]:
    """For the looks after runs 1..planned: can that look decide (its randomisation test can reach
    the look's level)? Used to say how many more runs until a decisive answer is possible."""
    blocks, runs = planned_length(exp)
    return decisive_looks(
        exp.design,
        runs,
        blocks_per_run=max(1, blocks // runs),
        randomisation_block=int(exp.protocol.get("randomisation_block", 2)),
    )


def experiment_report(store: Store, athlete: str, name: str, *, use_cache: bool = True) -> dict[str, Any]:
    """``analyze_experiment(...).to_dict()`` (the ``experiment analyze --json`` contract), kept in the
    store until the experiment, its tags, the runs or the analysis version change."""
    from stridelab.services.analysis import derived

    exp = get_experiment(store, athlete, name)
    tags = tags_repo.list_tags(store, athlete, key=exp.tag_key)
    params = {"experiment": exp.to_dict(), "tags": [t.to_dict() for t in tags]}

    def compute() -> dict[str, Any]:
        return analyze_experiment(store, athlete, name).to_dict()

    result: dict[str, Any] = derived(store, athlete, "experiment", params, compute, use_cache=use_cache)
    return result


def experiment_overview(store: Store, athlete: str) -> list[dict[str, Any]]:
    """Cheap per-experiment rows for lists and dashboards (no records read): name, design, arms,
    tag counts per arm, the protocol's planned blocks."""
    return [
        overview_row(exp, tags_repo.list_tags(store, athlete, key=exp.tag_key))
        for exp in experiments_repo.list_experiments(store, athlete)
    ]


# ---------------------------------------------------------------------------------------------- baseline
def baseline_rows(
    store: Store,
    athlete: str = "me",
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    ref_speed_m_s: float | None = None,
    window_runs: int = 20,
    min_runs: int = 5,
    k_spread: float = 2.0,
    only_flagged: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[BaselineRow], float | None]:
    """Every run of ``athlete`` against its rolling personal baseline (the baseline uses the runs
    before ``since`` too), and the reference speed the adjusted values refer to; ``only_flagged``:
    only the runs outside their baseline. ``progress(done, total)`` follows the runs that have no
    cached analysis yet."""
    table, ref, analyses = _run_table(
        store, athlete, until=until, ref_speed_m_s=ref_speed_m_s, progress=progress
    )
    loads = load_ratios(_runs(store, athlete, until=until))
    records = [
        baseline_record(row, None if row.get("analysis_error") else analyses.get(str(row["id"])), loads)
        for row in table.to_dict("records")
    ]
    rows = baseline_runs(
        records, ref, since=since, window_runs=window_runs, min_runs=min_runs, k_spread=k_spread
    )
    return (flagged(rows) if only_flagged else rows), ref


def baseline_report(
    store: Store,
    athlete: str = "me",
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    ref_speed_m_s: float | None = None,
    window_runs: int = 20,
    min_runs: int = 5,
    k_spread: float = 2.0,
    only_flagged: bool = False,
    use_cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[dict[str, Any]], float | None]:
    """:func:`baseline_rows` as ``BaselineRow.to_dict()`` rows (what ``baseline --json`` prints) and the
    reference speed, kept in the store until a run, an analysis or the analysis version changes."""
    from stridelab.services.analysis import derived

    def compute() -> dict[str, Any]:
        rows, ref = baseline_rows(
            store,
            athlete,
            since=since,
            until=until,
            ref_speed_m_s=ref_speed_m_s,
            window_runs=window_runs,
            min_runs=min_runs,
            k_spread=k_spread,
            only_flagged=only_flagged,
            progress=progress,
        )
        return {"rows": [r.to_dict() for r in rows], "ref_speed_m_s": ref}

    params = {
        "since": since,
        "until": until,
        "ref": ref_speed_m_s,
        "window": window_runs,
        "min_runs": min_runs,
        "k": k_spread,
        "flagged": only_flagged,
    }
    out = derived(store, athlete, "baseline", params, compute, use_cache=use_cache)
    return list(out["rows"]), out["ref_speed_m_s"]


def flagged(rows: Iterable[BaselineRow]) -> list[BaselineRow]:
    """The runs outside their baseline (flag ``high`` or ``low``)."""
    return [r for r in rows if r.flag in ("high", "low")]
