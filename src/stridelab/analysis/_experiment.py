"""N-of-1 experiments on form cues, stored in the catalog: create (with a randomised protocol),
list, gather the tagged blocks, analyse.

An experiment names two arms (tag values, e.g. ``push-behind`` and ``pull-up``) of a tag key (``cue``)
and a design:

* ``alternating-laps``: within runs; each lap (or tagged time range) is one block;
* ``alternating-runs``: each run tagged ``cue=<arm>`` is one block;
* ``before-after``: runs before vs after a change (tagged, or by ``change_date``); observational.

The effect is always mean(B) - mean(A), B being the second arm; see :mod:`._experiment_stats`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from stridelab.analysis._experiment_blocks import EXPERIMENT_METRICS, BlockSpec, BlockValue, extract_blocks
from stridelab.analysis._experiment_stats import DESIGNS, MIN_EFFECT, Comparison, compare_arms, design_error
from stridelab.analysis._tags import (
    _KEY_RE,
    _VALUE_RE,
    Tag,
    ensure_experiment_schema,
    format_clock,
    list_tags,
)

if TYPE_CHECKING:
    from stridelab.store import Store

__all__ = [
    "DESIGN_DEFAULTS",
    "Experiment",
    "ExperimentError",
    "ExperimentResult",
    "analyze_experiment",
    "create_experiment",
    "delete_experiment",
    "experiment_blocks",
    "experiment_overview",
    "get_experiment",
    "list_experiments",
    "make_protocol",
    "protocol_text",
]

#: protocol defaults per design: runs, blocks per run (laps), block distance (m)
DESIGN_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "alternating-laps": {"runs": 2, "blocks_per_run": 8, "block_m": 1000.0},
    "alternating-runs": {"runs": 12},
    "before-after": {"runs": 16, "window_days": 28, "phase_days": 0},
}
_NAME_MAX: Final[int] = 80


class ExperimentError(ValueError):
    """Bad experiment input (unknown name, bad arms or design, duplicate name...)."""


@dataclass(frozen=True, slots=True)
class Experiment:
    """A stored experiment definition and its protocol (with the seed of the arm order)."""

    name: str
    design: str
    tag_key: str
    arms: tuple[str, str]
    seed: int
    protocol: dict[str, Any]
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "design": self.design,
            "tag_key": self.tag_key,
            "arms": list(self.arms),
            "seed": self.seed,
            "protocol": self.protocol,
            "created_at": self.created_at,
        }


# ---------------------------------------------------------------------------------------------- protocol
def _pair_orders(rng: np.random.Generator, arms: tuple[str, str], n_pairs: int) -> list[str]:
    out: list[str] = []
    for _ in range(n_pairs):
        out += list(arms) if rng.random() < 0.5 else [arms[1], arms[0]]
    return out


def _block_orders(rng: np.random.Generator, arms: tuple[str, str], n: int, size: int) -> list[str]:
    """``n`` arms in consecutive blocks of ``size``, each block a random order of size/2 of each arm."""
    out: list[str] = []
    for _ in range(n // size):
        block = [arms[0]] * (size // 2) + [arms[1]] * (size // 2)
        out += [block[i] for i in rng.permutation(size)]
    return out


def make_protocol(
    design: str,
    arms: tuple[str, str],
    seed: int,
    *,
    tag_key: str = "cue",
    runs: int | None = None,
    blocks_per_run: int | None = None,
    block_m: float | None = None,
    ref_speed_m_s: float | None = None,
    change_date: str | None = None,
    window_days: int | None = None,
    phase_days: int | None = None,
) -> dict[str, Any]:
    """The protocol of a design: what to run, and the arm order randomised (within pairs) by ``seed``."""
    if design not in DESIGNS:
        raise ExperimentError(str(design_error(design)))
    d = DESIGN_DEFAULTS[design]
    rng = np.random.default_rng(seed)
    proto: dict[str, Any] = {"design": design, "arms": list(arms), "tag_key": tag_key, "seed": seed}
    if ref_speed_m_s is not None:
        proto["pace_band_m_s"] = [round(ref_speed_m_s * 0.97, 2), round(ref_speed_m_s * 1.03, 2)]
    if design == "alternating-laps":
        n_runs = runs or d["runs"]
        k = blocks_per_run or d["blocks_per_run"]
        if k < 2 or k % 2:
            raise ExperimentError(f"blocks per run must be even and >= 2 (pairs of arms), got {k}")
        proto.update(runs=n_runs, blocks_per_run=k, block_m=float(block_m or d["block_m"]))
        proto["orders"] = [_pair_orders(rng, arms, k // 2) for _ in range(n_runs)]
        proto["randomisation_block"] = 2
        proto["assignments"] = int(2 ** (n_runs * k // 2))
    elif design == "alternating-runs":
        n_runs = runs or d["runs"]
        if n_runs < 2 or n_runs % 2:
            raise ExperimentError(f"the number of runs must be even and >= 2 (pairs of arms), got {n_runs}")
        size = 4 if n_runs % 4 == 0 else 2
        proto.update(runs=n_runs, randomisation_block=size, order=_block_orders(rng, arms, n_runs, size))
        proto["assignments"] = int(math.comb(size, size // 2) ** (n_runs // size))
    else:
        n_runs = runs or d["runs"]
        proto.update(
            runs=n_runs,
            window_days=int(window_days if window_days is not None else d["window_days"]),
            phase_days=int(phase_days if phase_days is not None else d["phase_days"]),
            change_date=change_date,
        )
    return proto


def _pace_text(proto: dict[str, Any]) -> str:
    from stridelab.units import format_pace

    band = proto.get("pace_band_m_s")
    if not band:
        return "at one steady easy pace (the same for every block)"
    fast, slow = format_pace(band[1]), format_pace(band[0])
    return f"at your easy pace, between {fast} and {slow} (same for every block)"


def protocol_text(exp: Experiment) -> str:
    """The protocol in plain words, with the randomised order and the tag commands."""
    p = exp.protocol
    a, b = exp.arms
    key = exp.tag_key
    lines = [f'Experiment "{exp.name}": {b} vs {a} ({exp.design}), arm order seed {exp.seed}.']
    if exp.design == "alternating-laps":
        km = p["block_m"] / 1000.0
        lines.append(
            f"Each of {p['runs']} runs: 10 min easy warm-up, press LAP, then {p['blocks_per_run']} x "
            f"{km:g} km {_pace_text(p)}, pressing LAP after each block (auto-lap at {km:g} km works), "
            "on the same flat route. Hold the cue of the block for the whole block."
        )
        for r, order in enumerate(p["orders"], start=1):
            laps_of = {arm: [i + 2 for i, x in enumerate(order) if x == arm] for arm in exp.arms}
            lines.append(f"  run {r}: laps 2-{len(order) + 1}: {' '.join(order)}")
            for arm in exp.arms:
                lines.append(f"    stridelab tag RUN_ID {key}={arm} --lap {','.join(map(str, laps_of[arm]))}")
        lines.append(
            f"The arm order is randomised within each pair of laps; the analysis is an exact randomisation "
            f"test over those {p['assignments']} possible orders."
        )
    elif exp.design == "alternating-runs":
        lines.append(
            f"{p['runs']} easy runs of at least 20 min on the same route, {_pace_text(p)}; hold the cue "
            "the whole run. Order:"
        )
        for i, arm in enumerate(p["order"], start=1):
            lines.append(f"  run {i}: {arm}    -> stridelab tag RUN_ID {key}={arm}")
        unit = "pair of runs" if p.get("randomisation_block", 2) == 2 else "group of 4 runs (2 of each)"
        lines.append(
            f"The order is randomised within each {unit}; the analysis is an exact randomisation "
            f"test over those {p['assignments']} possible orders."
        )
    else:
        half = p["runs"] // 2
        when = (
            f"the {p['window_days']} days before {p['change_date']} ({a}) and the {p['window_days']} days "
            f"from {p['change_date']} + {p['phase_days']} days ({b})"
            if p.get("change_date")
            else f"runs tagged {key}={a} (before) and {key}={b} (after)"
        )
        lines.append(
            f"At least {half} easy runs before and {half} after the change, on the same route, "
            f"{_pace_text(p)}. Compared: {when}."
        )
        lines.append(
            "Not randomised: the comparison adjusts for pace, the season trend and the weekly load, but "
            "anything else that changed at the same time is mixed into the result."
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- storage
def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > _NAME_MAX or any(ord(c) < 32 for c in name):
        raise ExperimentError(f"Invalid experiment name {name!r}: 1-{_NAME_MAX} printable characters")
    return name


def _parse_arms(arms: Sequence[str] | str) -> tuple[str, str]:
    items = [a.strip() for a in (arms.split(",") if isinstance(arms, str) else arms) if a.strip()]
    if len(items) != 2:
        raise ExperimentError(f"An experiment compares exactly two arms (A,B), got {items!r}")
    if items[0] == items[1]:
        raise ExperimentError(f"The two arms must differ, got {items[0]!r} twice")
    for a in items:
        if not _VALUE_RE.match(a):
            raise ExperimentError(f"Invalid arm {a!r}: letters, digits, '_', '.', '+', '-', no spaces")
    return items[0], items[1]


def _row(r: Any) -> Experiment:
    arms = json.loads(r["arms_json"])
    return Experiment(
        name=r["name"],
        design=r["design"],
        tag_key=r["tag_key"],
        arms=(arms[0], arms[1]),
        seed=int(r["seed"]),
        protocol=json.loads(r["protocol_json"]),
        created_at=r["created_at"],
    )


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
) -> Experiment:
    """Define and store an experiment; the arm order is randomised with ``seed`` (recorded; drawn from
    the OS when not given)."""
    from stridelab.services.analysis import athlete_ref_speed

    name = _check_name(name)
    pair = _parse_arms(arms)
    if not _KEY_RE.match(tag_key):
        raise ExperimentError(f"Invalid tag key {tag_key!r}")
    if change_date is not None:
        try:
            change_date = pd.Timestamp(change_date).strftime("%Y-%m-%d")
        except (ValueError, TypeError) as exc:
            raise ExperimentError(f"Invalid change date {change_date!r}: use YYYY-MM-DD") from exc
        if design != "before-after":
            raise ExperimentError("--change-date only applies to the before-after design")
    seed = int(seed) if seed is not None else secrets.randbelow(2**31)
    ensure_experiment_schema(store)
    proto = make_protocol(
        design,
        pair,
        seed,
        tag_key=tag_key,
        runs=runs,
        blocks_per_run=blocks_per_run,
        block_m=block_m,
        ref_speed_m_s=athlete_ref_speed(store, athlete),
        change_date=change_date,
        window_days=window_days,
        phase_days=phase_days,
    )
    now = pd.Timestamp.now(tz="UTC").isoformat()
    with store.transaction() as tx:
        if tx.execute(
            "SELECT 1 FROM exp_experiments WHERE athlete = ? AND name = ?", (athlete, name)
        ).fetchone():
            raise ExperimentError(f"An experiment named {name!r} already exists")
        tx.execute(
            "INSERT INTO exp_experiments (athlete, name, design, tag_key, arms_json, seed, protocol_json, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (athlete, name, design, tag_key, json.dumps(list(pair)), seed, json.dumps(proto), now),
        )
    return Experiment(name, design, tag_key, pair, seed, proto, now)


def get_experiment(store: Store, athlete: str, name: str) -> Experiment:
    ensure_experiment_schema(store)
    r = (
        store.connect()
        .execute("SELECT * FROM exp_experiments WHERE athlete = ? AND name = ?", (athlete, name.strip()))
        .fetchone()
    )
    if r is None:
        known = [e.name for e in list_experiments(store, athlete)]
        hint = f" (known: {', '.join(repr(k) for k in known)})" if known else " (none defined yet)"
        raise ExperimentError(f"No experiment named {name!r}{hint}")
    return _row(r)


def list_experiments(store: Store, athlete: str) -> list[Experiment]:
    """Every experiment of ``athlete``, oldest first (definitions only; see :func:`analyze_experiment`)."""
    ensure_experiment_schema(store)
    rows = (
        store.connect()
        .execute("SELECT * FROM exp_experiments WHERE athlete = ? ORDER BY created_at, name", (athlete,))
        .fetchall()
    )
    return [_row(r) for r in rows]


def delete_experiment(store: Store, athlete: str, name: str) -> bool:
    """Delete an experiment definition (its tags stay). True when it existed."""
    ensure_experiment_schema(store)
    with store.transaction() as tx:
        cur = tx.execute(
            "DELETE FROM exp_experiments WHERE athlete = ? AND name = ?", (athlete, name.strip())
        )
    return cur.rowcount > 0


# ---------------------------------------------------------------------------------------------- blocks
def _weekly_loads_km(store: Store, athlete: str, run_starts: dict[str, pd.Timestamp]) -> dict[str, float]:
    """Running distance (km) of the 7 days before each run's start."""
    from stridelab.analysis import is_run

    acts = [a for a in store.list_activities(athlete) if is_run(a)]
    starts = np.array([a.start_time.value for a in acts], dtype=np.int64)
    dist = np.array([(a.distance_m or 0.0) / 1000.0 for a in acts])
    week = pd.Timedelta(days=7).value
    out: dict[str, float] = {}
    for rid, t in run_starts.items():
        m = (starts < t.value) & (starts >= t.value - week)
        out[rid] = float(dist[m].sum())
    return out


def _run_specs(exp: Experiment, tags: list[Tag], messages: list[str]) -> dict[str, list[BlockSpec]]:
    per_run: dict[str, list[BlockSpec]] = {}
    ignored_scope = 0
    for t in tags:
        if t.value not in exp.arms:
            continue
        if exp.design == "alternating-laps":
            if t.scope == "lap" and t.lap_index is not None:
                spec = BlockSpec(t.value, f"lap {t.lap_index + 1}", lap_index=t.lap_index)
            elif t.scope == "range" and t.from_s is not None and t.to_s is not None:
                spec = BlockSpec(
                    t.value, f"{format_clock(t.from_s)}-{format_clock(t.to_s)}", from_s=t.from_s, to_s=t.to_s
                )
            else:
                ignored_scope += 1
                continue
        else:
            if t.scope != "run":
                ignored_scope += 1
                continue
            spec = BlockSpec(t.value, "run")
        per_run.setdefault(t.activity_id, []).append(spec)
    if ignored_scope:
        what = "whole-run tags" if exp.design == "alternating-laps" else "lap/range tags"
        messages.append(f"{ignored_scope} {what} ignored: the {exp.design} design uses the other kind")
    other = sorted({t.value for t in tags if t.value not in exp.arms})
    if other:
        messages.append(f"tags {exp.tag_key}={', '.join(other)} are not arms of this experiment; ignored")
    return per_run


def experiment_blocks(
    store: Store, athlete: str, exp: Experiment, *, metrics: Sequence[str] = tuple(EXPERIMENT_METRICS)
) -> tuple[list[BlockValue], list[float] | None, list[str]]:
    """The experiment's blocks from the tagged runs (and, for before-after, each block's weekly load
    in km), plus messages about everything left out."""
    from stridelab.services.analysis import is_run, load_run
    from stridelab.store import StoreError

    messages: list[str] = []
    tags = list_tags(store, athlete, key=exp.tag_key)
    per_run = _run_specs(exp, tags, messages)
    change = exp.protocol.get("change_date")
    if exp.design == "before-after" and change:
        t0 = pd.Timestamp(change, tz="UTC")
        window = pd.Timedelta(days=int(exp.protocol.get("window_days", 28)))
        phase = pd.Timedelta(days=int(exp.protocol.get("phase_days", 0)))
        for act in store.list_activities(athlete, since=t0 - window, until=t0 + phase + window):
            if act.id in per_run:
                continue  # an explicit tag wins
            if not is_run(act):
                continue  # rides, swims, the cycling leg of a triathlon: not runs of the phase
            if act.start_time < t0:
                per_run[act.id] = [BlockSpec(exp.arms[0], "run")]
            elif act.start_time >= t0 + phase:
                per_run[act.id] = [BlockSpec(exp.arms[1], "run")]
    blocks: list[BlockValue] = []
    tagged_starts: dict[str, pd.Timestamp] = {}
    for run_id, specs in per_run.items():
        try:
            records, laps, row = load_run(store, athlete, run_id)
        except (StoreError, OSError, ValueError) as exc:
            messages.append(f"run {run_id[:8]}: cannot be read ({exc}); left out")
            continue
        tagged_starts[run_id] = pd.Timestamp(row.start_time)
        if exp.design != "alternating-laps" and len({s.arm for s in specs}) > 1:
            messages.append(f"run {run_id[:8]} is tagged with both arms; left out")
            continue
        got, msgs = extract_blocks(
            records,
            laps,
            specs[:1] if exp.design != "alternating-laps" else specs,
            run_id=run_id,
            run_start=row.start_time,
            metrics=metrics,
        )
        blocks += got
        messages += msgs
    if exp.design == "alternating-runs":
        # each run's place among ALL tagged runs (also those left out), so that the protocol's groups
        # stay aligned when a run in the middle has no usable data
        rank = {rid: i for i, rid in enumerate(sorted(tagged_starts, key=lambda r: tagged_starts[r]))}
        blocks = [dataclasses.replace(b, slot=rank[b.run_id]) for b in blocks]
    blocks.sort(key=lambda b: (b.run_start, b.order_s))
    loads: list[float] | None = None
    if exp.design == "before-after" and blocks:
        by_run = _weekly_loads_km(store, athlete, {b.run_id: b.run_start for b in blocks})
        loads = [by_run[b.run_id] for b in blocks]
    return blocks, loads, messages


# ---------------------------------------------------------------------------------------------- analysis
def _fmt(x: float, nd: int) -> str:
    return f"{x:.{nd}f}"


def _sentence(c: Comparison, arms: tuple[str, str]) -> str:
    a, b = arms
    unit, f, what = EXPERIMENT_METRICS[c.metric]
    nd = 1 if c.metric in ("balance", "vo", "cadence") else 0
    if c.effect is None or c.ci_low is None or c.ci_high is None:
        return f"{what}: cannot compare {b} with {a} yet: " + ("; ".join(c.messages[-1:]) or "no data")
    e, lo, hi = c.effect * f, c.ci_low * f, c.ci_high * f
    pace = " at the same pace" if c.design != "before-after" else " at the same pace, trend and load"
    name = "your left share" if c.metric == "balance" else f"your {what}"
    if c.decided:
        verb = "raised" if e > 0 else "lowered"
        mlo, mhi = (lo, hi) if e > 0 else (-hi, -lo)
        text = (
            f"{b} {verb} {name} by {_fmt(abs(e), nd)} {unit} (95 % CI {_fmt(mlo, nd)}–{_fmt(mhi, nd)}) "
            f"compared with {a}{pace}"
        )
        if c.metric == "balance" and c.mean_a is not None and c.mean_b is not None:
            closer = abs(c.mean_b - 50.0) < abs(c.mean_a - 50.0)
            text += " - closer to 50/50" if closer else " - further from 50/50"
        return text + (f" (p = {c.p_value:.3g})" if c.p_value is not None else "")
    needed = c.n_blocks_needed
    target = max(abs(c.effect), MIN_EFFECT.get(c.metric, 0.0)) * f
    tail = (
        f"; about {needed} blocks in all would settle a difference of {_fmt(target, nd)} {unit} at your "
        "block-to-block noise"
        if needed
        else ""
    )
    return (
        f"no clear difference in {what} between {b} and {a}: {e:+.{nd}f} {unit} "
        f"(95 % CI {lo:+.{nd}f} to {hi:+.{nd}f}){pace}{tail}"
    )


@dataclass(slots=True)
class ExperimentResult:
    """The analysis of an experiment: one :class:`Comparison` per metric (balance first)."""

    experiment: Experiment
    comparisons: dict[str, Comparison]
    messages: list[str] = field(default_factory=list)
    blocks: list[BlockValue] = field(default_factory=list)

    @property
    def balance(self) -> Comparison:
        return self.comparisons["balance"]

    def summary(self) -> str:
        """The plain-words result on the GCT balance."""
        return _sentence(self.balance, self.experiment.arms)

    def sentences(self) -> dict[str, str]:
        return {k: _sentence(c, self.experiment.arms) for k, c in self.comparisons.items()}

    def to_dict(self) -> dict[str, Any]:
        """The ``experiment analyze --json`` contract: effect_pp, ci_low, ci_high, p_value, n_blocks,
        method (balance, pp; effect = mean(B) - mean(A)) plus details."""
        c = self.balance

        def num(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        runs = sorted({b.run_id for b in self.blocks})
        return {
            "name": self.experiment.name,
            "design": self.experiment.design,
            "arms": list(self.experiment.arms),
            "effect_pp": num(c.effect),
            "ci_low": num(c.ci_low),
            "ci_high": num(c.ci_high),
            "p_value": num(c.p_value),
            "n_blocks": c.n_blocks,
            "method": c.method,
            "n_blocks_needed": c.n_blocks_needed,
            "summary": self.summary(),
            "metrics": {k: v.scaled() for k, v in self.comparisons.items()},
            "sentences": self.sentences(),
            "blocks": [
                {
                    "id": b.run_id,
                    "label": b.label,
                    "arm": b.arm,
                    "seconds": b.seconds,
                    "speed_m_s": b.speed_m_s,
                    "balance_left_pct": b.values.get("balance"),
                    "balance_raw_left_pct": b.raw.get("balance"),
                }
                for b in self.blocks
            ],
            "n_runs": len(runs),
            "messages": list(self.messages) + [m for m in c.messages if m not in self.messages],
        }


def analyze_experiment(
    store: Store, athlete: str, name: str, *, metrics: Sequence[str] = tuple(EXPERIMENT_METRICS)
) -> ExperimentResult:
    """Gather the tagged blocks of experiment ``name`` and compare its arms on every metric."""
    exp = get_experiment(store, athlete, name)
    metrics = ["balance", *[m for m in metrics if m != "balance"]]
    blocks, loads, messages = experiment_blocks(store, athlete, exp, metrics=metrics)
    comparisons = {
        m: compare_arms(
            blocks,
            exp.arms,
            exp.design,
            m,
            seed=exp.seed,
            loads_km=loads,
            randomisation_block=int(exp.protocol.get("randomisation_block", 2)),
        )
        for m in metrics
    }
    comparisons = {m: c for m, c in comparisons.items() if m == "balance" or c.n_blocks > 0}
    return ExperimentResult(exp, comparisons, messages, blocks)


def experiment_overview(store: Store, athlete: str) -> list[dict[str, Any]]:
    """Cheap per-experiment rows for lists and dashboards (no records read): name, design, arms,
    tag counts per arm, the protocol's planned blocks."""
    out = []
    for exp in list_experiments(store, athlete):
        tags = list_tags(store, athlete, key=exp.tag_key)
        counts = {arm: 0 for arm in exp.arms}
        runs: set[str] = set()
        for t in tags:
            if t.value in counts and ((t.scope != "run") == (exp.design == "alternating-laps")):
                counts[t.value] += 1
                runs.add(t.activity_id)
        p = exp.protocol
        planned = (
            p["runs"] * p["blocks_per_run"] if exp.design == "alternating-laps" else int(p.get("runs", 0))
        )
        out.append(
            {
                "name": exp.name,
                "design": exp.design,
                "tag_key": exp.tag_key,
                "arms": list(exp.arms),
                "seed": exp.seed,
                "created_at": exp.created_at,
                "tagged_blocks": counts,
                "tagged_runs": len(runs),
                "planned_blocks": planned,
            }
        )
    return out
