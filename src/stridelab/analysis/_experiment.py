"""N-of-1 experiments on form cues: the definition, its randomised protocol, the tagged blocks and the
analysis. Pure: the definitions are stored by :mod:`stridelab.store.experiments`, the runs are loaded
by :mod:`stridelab.services.experiments`, which calls these functions.

An experiment names two arms (tag values, e.g. ``push-behind`` and ``pull-up``) of a tag key (``cue``)
and a design (:data:`DesignName`, one class each in :mod:`._experiment_designs`):

* ``alternating-laps``: within runs; each lap (or tagged time range) is one block;
* ``alternating-runs``: each run tagged ``cue=<arm>`` is one block;
* ``before-after``: runs before vs after a change (tagged, or by ``change_date``); observational.

The effect is always mean(B) - mean(A), B being the second arm; see :mod:`._experiment_stats`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from stridelab.analysis._experiment_blocks import EXPERIMENT_METRICS, BlockSpec, BlockValue, extract_blocks
from stridelab.analysis._experiment_designs import design_for
from stridelab.analysis._experiment_sequential import Look, decides, decisive_looks, look_at
from stridelab.analysis._experiment_stats import (
    DESIGNS,
    MIN_EFFECT,
    Comparison,
    DesignName,
    design_error,
    design_name,
)
from stridelab.analysis._tags import _KEY_RE, _VALUE_RE, Tag, format_clock
from stridelab.lazy import lazy_module
from stridelab.units import format_pace

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "DEFAULT_PRIMARY",
    "DESIGN_DEFAULTS",
    "Experiment",
    "ExperimentError",
    "ExperimentResult",
    "analyze_blocks",
    "block_specs",
    "check_definition",
    "experiment_look",
    "holm",
    "make_protocol",
    "order_blocks",
    "overview_row",
    "phase_window",
    "planned_length",
    "protocol_deviations",
    "protocol_text",
    "run_blocks",
]

#: the primary metric of experiments whose protocol does not name one (created before issue 13)
DEFAULT_PRIMARY: Final[str] = "balance"
#: protocol defaults per design: runs, blocks per run (laps), block distance (m)
DESIGN_DEFAULTS: Final[dict[DesignName, dict[str, Any]]] = {
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
    design: DesignName
    tag_key: str
    arms: tuple[str, str]
    seed: int
    protocol: dict[str, Any]
    created_at: str

    @property
    def primary(self) -> str:
        """The primary metric declared at creation (``protocol["primary"]``); ``balance`` for
        experiments stored before it existed."""
        got = self.protocol.get("primary")
        return str(got) if got in EXPERIMENT_METRICS else DEFAULT_PRIMARY

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "primary": self.primary,
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
    design: DesignName,
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
    primary: str = DEFAULT_PRIMARY,
) -> dict[str, Any]:
    """The protocol of a design: what to run, the primary metric (the only one that gets a verdict),
    and the arm order randomised (within pairs) by ``seed``."""
    if design not in DESIGNS:
        raise ExperimentError(str(design_error(design)))
    if primary not in EXPERIMENT_METRICS:
        raise ExperimentError(f"Invalid primary metric {primary!r}: one of {', '.join(EXPERIMENT_METRICS)}")
    d = DESIGN_DEFAULTS[design]
    rng = np.random.default_rng(seed)
    proto: dict[str, Any] = {
        "design": design,
        "arms": list(arms),
        "tag_key": tag_key,
        "seed": seed,
        "primary": primary,
    }
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
    what = EXPERIMENT_METRICS[exp.primary][2]
    lines = [
        f'Experiment "{exp.name}": {a} vs {b} ({exp.design}), arm order seed {exp.seed}; effect = {b} - {a}.',
        f"Primary metric: {what} (the only verdict; the other metrics are exploratory). Planned: "
        f"{planned_length(exp)[0]} blocks; analysing after every run is allowed (alpha spending), "
        "stopping early only when the evidence beats that look's level.",
    ]
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


# ---------------------------------------------------------------------------------------------- definition
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


def check_definition(
    name: str, arms: Sequence[str] | str, design: str, *, tag_key: str = "cue", change_date: str | None = None
) -> tuple[str, tuple[str, str], DesignName, str | None]:
    """A new experiment's name (stripped), arms (``"A,B"`` or two strings), design and change date
    (``YYYY-MM-DD``), checked; :class:`ExperimentError` says what is wrong."""
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
    try:
        checked = design_name(design)
    except ValueError as exc:
        raise ExperimentError(str(exc)) from exc
    return name, pair, checked, change_date


# ---------------------------------------------------------------------------------------------- blocks
def _run_specs(exp: Experiment, tags: Sequence[Tag], messages: list[str]) -> dict[str, list[BlockSpec]]:
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


def phase_window(exp: Experiment) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """``[since, until)`` of the runs a before-after experiment with a change date takes by date
    (None: the experiment uses tags only)."""
    change = exp.protocol.get("change_date")
    if exp.design != "before-after" or not change:
        return None
    t0 = pd.Timestamp(change, tz="UTC")
    window = pd.Timedelta(days=int(exp.protocol.get("window_days", 28)))
    phase = pd.Timedelta(days=int(exp.protocol.get("phase_days", 0)))
    return t0 - window, t0 + phase + window


def block_specs(
    exp: Experiment, tags: Sequence[Tag], phase_runs: Sequence[tuple[str, pd.Timestamp]] = ()
) -> tuple[dict[str, list[BlockSpec]], list[str]]:
    """The blocks to extract per run id, from the tags of the experiment's key and, for before-after
    with a change date, from ``phase_runs`` (id and start of each run in :func:`phase_window`, in
    catalog order; an explicit tag wins); plus messages about the tags left out."""
    messages: list[str] = []
    per_run = _run_specs(exp, tags, messages)
    change = exp.protocol.get("change_date")
    if exp.design == "before-after" and change:
        t0 = pd.Timestamp(change, tz="UTC")
        phase = pd.Timedelta(days=int(exp.protocol.get("phase_days", 0)))
        for run_id, start in phase_runs:
            if run_id in per_run:
                continue  # an explicit tag wins
            if start < t0:
                per_run[run_id] = [BlockSpec(exp.arms[0], "run")]
            elif start >= t0 + phase:
                per_run[run_id] = [BlockSpec(exp.arms[1], "run")]
    return per_run, messages


def run_blocks(
    exp: Experiment,
    run_id: str,
    specs: Sequence[BlockSpec],
    records: pd.DataFrame,
    laps: pd.DataFrame | None,
    run_start: pd.Timestamp,
    *,
    metrics: Sequence[str] = tuple(EXPERIMENT_METRICS),
) -> tuple[list[BlockValue], list[str]]:
    """The blocks of one run (its records and laps), and messages about what was left out."""
    if exp.design != "alternating-laps" and len({s.arm for s in specs}) > 1:
        return [], [f"run {run_id[:8]} is tagged with both arms; left out"]
    return extract_blocks(
        records,
        laps,
        specs[:1] if exp.design != "alternating-laps" else specs,
        run_id=run_id,
        run_start=run_start,
        metrics=metrics,
    )


def order_blocks(
    exp: Experiment, blocks: Sequence[BlockValue], tagged_starts: Mapping[str, pd.Timestamp]
) -> list[BlockValue]:
    """The blocks in time order; for alternating runs each run's block gets its place among ALL
    tagged runs (``tagged_starts``: start of every tagged run that could be read, also those left
    out), so that the protocol's groups stay aligned when a run in the middle has no usable data."""
    out = list(blocks)
    if exp.design == "alternating-runs":
        rank = {rid: i for i, rid in enumerate(sorted(tagged_starts, key=lambda r: tagged_starts[r]))}
        out = [dataclasses.replace(b, slot=rank[b.run_id]) for b in out]
    out.sort(key=lambda b: (b.run_start, b.order_s))
    return out


# ---------------------------------------------------------------------------------------------- analysis
def planned_length(exp: Experiment) -> tuple[int, int]:
    """The protocol's planned (blocks, runs): the full information the alpha spending refers to."""
    p = exp.protocol
    d = DESIGN_DEFAULTS[exp.design]
    runs = int(p.get("runs") or d["runs"])
    if exp.design == "alternating-laps":
        return runs * int(p.get("blocks_per_run") or d["blocks_per_run"]), runs
    return runs, runs


def experiment_look(exp: Experiment, n_blocks: int, alpha: float = 0.05) -> Look:
    """The look an analysis of ``n_blocks`` blocks is on the protocol of ``exp`` (one look per run;
    looks whose randomisation test cannot decide spend no alpha)."""
    planned_blocks, planned_runs = planned_length(exp)
    p = exp.protocol
    flags = decisive_looks(
        exp.design,
        planned_runs,
        blocks_per_run=max(1, planned_blocks // planned_runs),
        randomisation_block=int(p.get("randomisation_block", 2)),
        alpha=alpha,
    )
    return look_at(n_blocks, planned_blocks, planned_runs, alpha=alpha, decisive=flags)


def _is_fallback(c: Comparison) -> bool:
    """The p-value is the model-based stand-in of a randomisation test with too few assignments."""
    return c.n_assignments is not None and c.attained_alpha is None


def _lap_position(b: BlockValue) -> int | None:
    """The block's position in its run's protocol order (lap 2 is position 0; a range its slot)."""
    m = re.fullmatch(r"lap (\d+)", b.label)
    if m:
        return int(m.group(1)) - 2
    return b.slot


def protocol_deviations(exp: Experiment, blocks: Sequence[BlockValue]) -> list[dict[str, Any]]:
    """Where the tagged arms differ from the protocol's randomised order: one dict per block
    (``run``, ``block``, ``protocol`` arm or None when the protocol has no such block, ``tagged``
    arm). Runs are matched to the protocol's runs in date order, alternating runs by their place
    among the tagged runs. Empty for before-after (not randomised) and when everything matches."""
    p = exp.protocol
    out: list[dict[str, Any]] = []
    if exp.design == "alternating-laps":
        orders: list[list[str]] = p.get("orders") or []
        runs = sorted({(b.run_start, b.run_id) for b in blocks})
        index = {rid: r for r, (_, rid) in enumerate(runs)}
        for b in blocks:
            r = index[b.run_id]
            pos = _lap_position(b)
            want: str | None = None
            if r < len(orders) and pos is not None and 0 <= pos < len(orders[r]):
                want = orders[r][pos]
            if want != b.arm:
                out.append(
                    {
                        "run": b.run_id,
                        "run_number": r + 1,
                        "block": b.label,
                        "protocol": want,
                        "tagged": b.arm,
                    }
                )
    elif exp.design == "alternating-runs":
        order: list[str] = p.get("order") or []
        ranked = sorted(blocks, key=lambda b: b.run_start)
        for i, b in enumerate(ranked):
            pos = b.slot if b.slot is not None else i
            want = order[pos] if 0 <= pos < len(order) else None
            if want != b.arm:
                out.append(
                    {
                        "run": b.run_id,
                        "run_number": pos + 1,
                        "block": b.label,
                        "protocol": want,
                        "tagged": b.arm,
                    }
                )
    return out


def _deviation_text(devs: Sequence[Mapping[str, Any]]) -> str:
    by_run: dict[tuple[int, str], list[str]] = {}
    for d in devs:
        want = f"protocol {d['protocol']}" if d["protocol"] else "not in the protocol"
        what = f"tagged {d['tagged']}, {want}"
        by_run.setdefault((int(d["run_number"]), str(d["run"])[:8]), []).append(
            what if d["block"] == "run" else f"{d['block']}: {what}"
        )
    parts = [f"run {n} ({rid}) " + "; ".join(items) for (n, rid), items in sorted(by_run.items())]
    return (
        f"the tags differ from the protocol's randomised order in {len(devs)} block(s): "
        + " | ".join(parts)
        + ". A randomisation test is invalid for an assignment the protocol did not draw"
    )


def _fmt(x: float, nd: int) -> str:
    return f"{x:.{nd}f}"


def _nd(metric: str) -> int:
    return 1 if metric in ("balance", "vo", "cadence") else 0


def _verdict_sentence(c: Comparison, arms: tuple[str, str], look: Look | None) -> str:
    """The primary metric's sentence: a verdict only when p beats this look's level."""
    a, b = arms
    unit, f, what = EXPERIMENT_METRICS[c.metric]
    nd = _nd(c.metric)
    if c.effect is None or c.ci_low is None or c.ci_high is None:
        return f"{what}: cannot compare {a} with {b} yet: " + ("; ".join(c.messages[-1:]) or "no data")
    e, lo, hi = c.effect * f, c.ci_low * f, c.ci_high * f
    pace = " at the same pace" if c.design != "before-after" else " at the same pace, trend and load"
    name = "your left share" if c.metric == "balance" else f"your {what}"
    level = look.nominal_alpha if look is not None else 1.0 - c.confidence
    decided = decides(c.p_value, look, alpha=1.0 - c.confidence, fallback=_is_fallback(c))
    where = (
        f"look {look.index} of {look.n_looks}, {look.n_blocks} of {look.planned_blocks} planned blocks"
        if look is not None
        else ""
    )
    if decided:
        verb = "raised" if e > 0 else "lowered"
        mlo, mhi = (lo, hi) if e > 0 else (-hi, -lo)
        text = (
            f"{b} {verb} {name} by {_fmt(abs(e), nd)} {unit} (95 % CI {_fmt(mlo, nd)}–{_fmt(mhi, nd)}) "
            f"compared with {a}{pace}"
        )
        if c.metric == "balance" and c.mean_a is not None and c.mean_b is not None:
            closer = abs(c.mean_b - 50.0) < abs(c.mean_a - 50.0)
            text += " - closer to 50/50" if closer else " - further from 50/50"
        text += f" (p = {c.p_value:.3g}"
        if look is not None and not look.final:
            text += f" < {level:.3g}, the level of {where}: stopped early"
        return text + ")"
    shown = f"{e:+.{nd}f} {unit} (95 % CI {lo:+.{nd}f} to {hi:+.{nd}f}){pace}"
    p_txt = f"p = {c.p_value:.3g}" if c.p_value is not None else "no p-value"
    if look is not None and not look.final:
        need = (
            f"{p_txt}; this look cannot stop the experiment (its randomisation test cannot decide yet)"
            if level <= 0.0 or _is_fallback(c)
            else f"{p_txt} would need to be below {level:.3g} to stop early"
        )
        return (
            f"not decisive yet ({where}): {what} {b} - {a} {shown}; {need}. Keep following the "
            "protocol to its planned length"
        )
    needed = c.n_blocks_needed
    target = max(abs(c.effect), MIN_EFFECT.get(c.metric, 0.0)) * f
    tail = (
        f"; settling a difference of {_fmt(target, nd)} {unit} at your block-to-block noise would take a "
        f"new experiment of about {needed} blocks"
        if needed
        else ""
    )
    lvl = (
        f" at this look's level {level:.3g}" if look is not None and level < 1.0 - c.confidence - 1e-9 else ""
    )
    return f"no clear difference in {what} between {a} and {b}: {shown}; {p_txt}{lvl}{tail}"


def _exploratory_sentence(c: Comparison, arms: tuple[str, str], p_holm: float | None) -> str:
    """A secondary metric: the numbers, labelled exploratory, never a raised/lowered verdict."""
    a, b = arms
    unit, f, what = EXPERIMENT_METRICS[c.metric]
    nd = _nd(c.metric)
    if c.effect is None or c.ci_low is None or c.ci_high is None:
        return f"{what} (exploratory): cannot compare {a} with {b} yet: " + (
            "; ".join(c.messages[-1:]) or "no data"
        )
    e, lo, hi = c.effect * f, c.ci_low * f, c.ci_high * f
    ph = f"Holm-adjusted p = {p_holm:.3g}" if p_holm is not None else "no p-value"
    return (
        f"{what} (exploratory, not a verdict): {b} - {a} {e:+.{nd}f} {unit} (unadjusted 95 % CI "
        f"{lo:+.{nd}f} to {hi:+.{nd}f}), {ph}; a hint for a future experiment with it as the primary metric"
    )


def holm(pvalues: Mapping[str, float | None], alpha: float = 0.05) -> dict[str, float | None]:
    """Holm-adjusted p-values over the given metrics (None stays None), with statsmodels'
    ``multipletests(method="holm")``."""
    from statsmodels.stats.multitest import multipletests

    keys = [k for k, p in pvalues.items() if p is not None and math.isfinite(p)]
    out: dict[str, float | None] = dict.fromkeys(pvalues)
    if keys:
        adj = multipletests([float(pvalues[k]) for k in keys], alpha=alpha, method="holm")[1]  # type: ignore[arg-type]
        out.update({k: float(v) for k, v in zip(keys, adj, strict=True)})
    return out


@dataclass(slots=True)
class ExperimentResult:
    """The analysis of an experiment: one :class:`Comparison` per metric (the primary first), the
    look it is on the protocol (alpha spending), Holm-adjusted p-values of the exploratory metrics
    and the deviations of the tags from the protocol's randomised order."""

    experiment: Experiment
    comparisons: dict[str, Comparison]
    messages: list[str] = field(default_factory=list)
    blocks: list[BlockValue] = field(default_factory=list)
    look: Look | None = None
    p_holm: dict[str, float | None] = field(default_factory=dict)
    deviations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def primary_metric(self) -> str:
        return self.experiment.primary

    @property
    def primary(self) -> Comparison:
        return self.comparisons[self.primary_metric]

    @property
    def balance(self) -> Comparison:
        return self.comparisons["balance"]

    @property
    def decided(self) -> bool:
        """The primary metric's p-value beats the level of this look."""
        c = self.primary
        return decides(c.p_value, self.look, alpha=1.0 - c.confidence, fallback=_is_fallback(c))

    @property
    def verdict(self) -> str:
        """``decided``, ``not decisive yet`` (before the planned length), ``no clear difference`` or
        ``not computed``."""
        if self.primary.effect is None:
            return "not computed"
        if self.decided:
            return "decided"
        return "not decisive yet" if self.look is not None and not self.look.final else "no clear difference"

    def summary(self) -> str:
        """The plain-words result on the primary metric (the only verdict)."""
        return _verdict_sentence(self.primary, self.experiment.arms, self.look)

    def sentences(self) -> dict[str, str]:
        arms = self.experiment.arms
        return {
            k: (
                self.summary()
                if k == self.primary_metric
                else _exploratory_sentence(c, arms, self.p_holm.get(k))
            )
            for k, c in self.comparisons.items()
        }

    def to_dict(self) -> dict[str, Any]:
        """The ``experiment analyze --json`` contract: effect_pp, ci_low, ci_high, p_value, n_blocks,
        method (balance, pp; effect = mean(B) - mean(A)) plus details: ``primary_metric`` and its
        ``verdict``, ``exploratory`` (the other metrics with Holm-adjusted p-values), ``looks`` and
        ``alpha_spent`` (alpha spending), ``protocol_deviations``."""
        c = self.balance

        def num(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        runs = sorted({b.run_id for b in self.blocks})
        metrics = {}
        for k, v in self.comparisons.items():
            row = v.scaled()
            row["role"] = "primary" if k == self.primary_metric else "exploratory"
            row["p_holm"] = None if k == self.primary_metric else self.p_holm.get(k)
            metrics[k] = row
        look = self.look.to_dict() if self.look is not None else None
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
            "primary_metric": self.primary_metric,
            "verdict": self.verdict,
            "decided": self.decided,
            "primary": metrics[self.primary_metric],
            "exploratory": {
                k: {
                    "what": m["what"],
                    "unit": m["unit"],
                    "effect": m["effect"],
                    "ci_low": m["ci_low"],
                    "ci_high": m["ci_high"],
                    "p_value": m["p_value"],
                    "p_holm": m["p_holm"],
                    "label": "exploratory (Holm-adjusted over the secondary metrics; not a verdict)",
                }
                for k, m in metrics.items()
                if k != self.primary_metric
            },
            "looks": look,
            "alpha_spent": look["alpha_spent"] if look else None,
            "nominal_alpha": look["nominal_alpha"] if look else None,
            "protocol_deviations": list(self.deviations),
            "randomisation_valid": not self.deviations,
            "metrics": metrics,
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
            "messages": list(self.messages) + [m for m in self.primary.messages if m not in self.messages],
        }


def analyze_blocks(
    exp: Experiment,
    blocks: Sequence[BlockValue],
    *,
    loads_km: Sequence[float] | None = None,
    messages: Sequence[str] = (),
    metrics: Sequence[str] = tuple(EXPERIMENT_METRICS),
) -> ExperimentResult:
    """Compare the arms of ``exp`` on every metric (the primary first, balance always) over its
    ``blocks`` with the experiment's design; ``loads_km`` the weekly load of each block's run
    (before-after). The tags are checked against the protocol's randomised order (a deviation turns the
    randomisation test into the model-based one, stated); the primary metric is judged at the level
    its look may spend; the other metrics get Holm-adjusted p-values."""
    primary = exp.primary
    wanted = list(dict.fromkeys([primary, "balance", *metrics]))
    msgs = list(messages)
    devs = protocol_deviations(exp, blocks)
    if devs:
        msgs.append(_deviation_text(devs))
    design = design_for(
        exp.design,
        seed=exp.seed,
        randomisation_block=int(exp.protocol.get("randomisation_block", 2)),
        randomised=not devs,
    )
    comparisons = {m: design.compare(blocks, exp.arms, m, loads_km=loads_km) for m in wanted}
    comparisons = {m: c for m, c in comparisons.items() if m in (primary, "balance") or c.n_blocks > 0}
    planned_blocks, _ = planned_length(exp)
    pc = comparisons[primary]
    look = experiment_look(exp, pc.n_blocks, alpha=1.0 - pc.confidence)
    if look.n_blocks > planned_blocks:
        msgs.append(
            f"{look.n_blocks} blocks, more than the {planned_blocks} planned: this is judged as the final "
            "look; looking again after more runs is not alpha-protected (start a new experiment instead)"
        )
    p_holm = holm({m: c.p_value for m, c in comparisons.items() if m != primary})
    return ExperimentResult(exp, comparisons, msgs, list(blocks), look, p_holm, devs)


def overview_row(exp: Experiment, tags: Sequence[Tag]) -> dict[str, Any]:
    """A cheap row for lists and dashboards (no records read): name, design, arms, tag counts per
    arm from the ``tags`` of the experiment's key, the protocol's planned blocks."""
    counts = {arm: 0 for arm in exp.arms}
    runs: set[str] = set()
    for t in tags:
        if t.value in counts and ((t.scope != "run") == (exp.design == "alternating-laps")):
            counts[t.value] += 1
            runs.add(t.activity_id)
    planned = planned_length(exp)[0]
    return {
        "name": exp.name,
        "design": exp.design,
        "primary_metric": exp.primary,
        "tag_key": exp.tag_key,
        "arms": list(exp.arms),
        "seed": exp.seed,
        "created_at": exp.created_at,
        "tagged_blocks": counts,
        "tagged_runs": len(runs),
        "planned_blocks": planned,
    }
