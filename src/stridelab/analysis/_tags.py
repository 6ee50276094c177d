"""Tags on runs, laps and time ranges (``cue=push-behind``): the tag type, parsing and the rules.

A tag is ``key=value`` on one of three scopes:

* ``run``: the whole run;
* ``lap``: one lap (``lap_index`` 0-based inside, shown 1-based as the watch does);
* ``range``: a span of timer time ``[from_s, to_s)`` (seconds since the start, pauses excluded - what
  the watch's timer shows).

One key has at most one value per run (scope ``run``), per lap, or per identical range: tagging again
replaces the value. Tags follow their activity: deleting the activity deletes them. Pure: the tags are
stored by :mod:`stridelab.store.tags` and tagged through :mod:`stridelab.services.experiments`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "TAG_SCOPES",
    "Tag",
    "TagError",
    "TagScope",
    "TagTarget",
    "check_key",
    "format_clock",
    "parse_clock",
    "parse_laps",
    "parse_selector",
    "parse_tag",
    "tag_labels",
    "tag_targets",
]

TagScope = Literal["run", "lap", "range"]
TAG_SCOPES: Final[tuple[str, ...]] = ("run", "lap", "range")
_KEY_RE: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_VALUE_RE: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
#: where a tag sits: (lap_index, from_s, to_s), all None for the whole run
TagTarget = tuple[int | None, float | None, float | None]


class TagError(ValueError):
    """Bad tag input (syntax, unknown lap, empty range...)."""


@dataclass(frozen=True, slots=True)
class Tag:
    """One stored tag. ``lap_index`` is 0-based; ``from_s``/``to_s`` are timer seconds."""

    tag_id: int
    activity_id: str
    key: str
    value: str
    scope: TagScope
    lap_index: int | None = None
    from_s: float | None = None
    to_s: float | None = None

    @property
    def lap_number(self) -> int | None:
        """The 1-based lap number a runner sees."""
        return None if self.lap_index is None else self.lap_index + 1

    def label(self) -> str:
        """``cue=push-behind``, ``cue=push-behind@lap3`` or ``cue=push-behind@10:00-20:00``."""
        base = f"{self.key}={self.value}"
        if self.scope == "lap":
            return f"{base}@lap{self.lap_number}"
        if self.scope == "range" and self.from_s is not None and self.to_s is not None:
            return f"{base}@{format_clock(self.from_s)}-{format_clock(self.to_s)}"
        return base

    def to_dict(self) -> dict[str, Any]:
        return {
            "tag_id": self.tag_id,
            "id": self.activity_id,
            "key": self.key,
            "value": self.value,
            "scope": self.scope,
            "lap": self.lap_number,
            "from_s": self.from_s,
            "to_s": self.to_s,
            "label": self.label(),
        }


# ---------------------------------------------------------------------------------------------- parsing
def parse_tag(text: str) -> tuple[str, str]:
    """``"cue=push-behind"`` -> ``("cue", "push-behind")`` (keys: letter first; values: no spaces)."""
    if "=" not in text:
        raise TagError(f"Invalid tag {text!r}: expected key=value, e.g. cue=push-behind")
    key, value = (s.strip() for s in text.split("=", 1))
    if not _KEY_RE.match(key):
        raise TagError(
            f"Invalid tag key {key!r}: start with a letter, then letters, digits, '_', '.', '-' (max 64)"
        )
    if not _VALUE_RE.match(value):
        raise TagError(
            f"Invalid tag value {value!r}: letters, digits, '_', '.', '+', '-' (max 64), no spaces"
        )
    return key, value


def parse_laps(text: str) -> list[int]:
    """``"1,3,5-7"`` (1-based lap numbers) -> 0-based lap indexes ``[0, 2, 4, 5, 6]``."""
    out: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise TagError(f"Invalid lap list {text!r}: use lap numbers from 1, e.g. 1,3,5 or 2-6")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if lo < 1 or hi < lo:
            raise TagError(f"Invalid lap list {text!r}: lap numbers start at 1 (as on the watch)")
        out.update(range(lo - 1, hi))
    if not out:
        raise TagError(f"Invalid lap list {text!r}: no lap numbers")
    return sorted(out)


def parse_clock(text: str) -> float:
    """``"10:00"`` / ``"1:05:30"`` / ``"600"`` (seconds) -> seconds."""
    t = text.strip()
    try:
        if ":" not in t:
            value = float(t)
        else:
            parts = [float(p) for p in t.split(":")]
            if len(parts) > 3 or any(p < 0 for p in parts) or any(p >= 60 for p in parts[1:]):
                raise ValueError(t)
            value = 0.0
            for p in parts:
                value = value * 60.0 + p
    except ValueError as exc:
        raise TagError(f"Invalid time {text!r}: use mm:ss, h:mm:ss or seconds") from exc
    if not (value >= 0 and value < 7 * 86400):
        raise TagError(f"Invalid time {text!r}: must be >= 0")
    return value


def format_clock(seconds: float) -> str:
    """Seconds -> ``m:ss`` or ``h:mm:ss``."""
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


# ---------------------------------------------------------------------------------------------- rules
def check_key(text: str) -> str:
    """A valid tag key (stripped), else :class:`TagError`."""
    if not _KEY_RE.match(text.strip()):
        raise TagError(f"Invalid tag key {text!r}")
    return text.strip()


def parse_selector(selector: str | None) -> tuple[str | None, str | None]:
    """What to remove: ``None`` (all), ``"cue"`` (a key) or ``"cue=pull"`` (a key and value) ->
    ``(key, value)``."""
    if not selector:
        return None, None
    if "=" in selector:
        return parse_tag(selector)
    return check_key(selector), None


def tag_targets(
    run_label: str,
    *,
    laps: Sequence[int] | None,
    from_s: float | None,
    to_s: float | None,
    duration_s: float | None,
    n_laps: int | None,
    has_running_dynamics: bool,
) -> tuple[TagScope, list[TagTarget], list[str]]:
    """Check where a tag goes on a run and say where: its scope, its targets and warnings (e.g. the
    run has no running dynamics, so it cannot feed an experiment).

    ``laps`` are 0-based lap indexes (they must exist: ``n_laps`` is the run's lap count, needed only
    with ``laps``); ``from_s``/``to_s`` a timer-time range (both or neither; not together with
    ``laps``); ``duration_s`` the run's timer time (None: unknown). ``run_label`` names the run in
    messages.
    """
    warnings: list[str] = []
    if laps is not None and (from_s is not None or to_s is not None):
        raise TagError("Give either --lap or --from/--to, not both")
    if (from_s is None) != (to_s is None):
        raise TagError("A time range needs both --from and --to")
    if from_s is not None and to_s is not None:
        if to_s <= from_s:
            raise TagError(f"Empty time range: --to ({format_clock(to_s)}) must be after --from")
        if duration_s is not None and from_s >= duration_s:
            raise TagError(
                f"The range starts at {format_clock(from_s)}, after the end of the run "
                f"({format_clock(duration_s)} timer time)"
            )
        if duration_s is not None and to_s > duration_s + 1.0:
            warnings.append(
                f"the range ends at {format_clock(to_s)}, after the run ({format_clock(duration_s)}); "
                "it is cut at the end"
            )
    if laps is not None:
        count = n_laps or 0
        bad = [i + 1 for i in laps if i >= count]
        if bad:
            raise TagError(
                f"Run {run_label} has {count} lap(s); no lap {', '.join(map(str, bad))} "
                "(laps are numbered from 1 as on the watch)"
            )
    if not has_running_dynamics:
        warnings.append(
            f"run {run_label} has no running dynamics (no chest strap / pod data): the tag is kept, "
            "but this run cannot contribute to a balance experiment"
        )
    scope: TagScope = "lap" if laps is not None else ("range" if from_s is not None else "run")
    targets: list[TagTarget] = (
        [(int(i), None, None) for i in (laps or [])] if scope == "lap" else [(None, from_s, to_s)]
    )
    return scope, targets, warnings


def tag_labels(tags: Iterable[Tag], ids: Iterable[str]) -> dict[str, list[str]]:
    """Tag labels of each run id (full ids), for every place runs are listed.

    Run-scoped tags read ``cue=push-behind``; lap tags are grouped per value,
    ``cue=push-behind@lap1,3,5``; ranges ``cue=pull-up@10:00-20:00``. Runs without tags map to ``[]``;
    tags of other runs are ignored.
    """
    out: dict[str, list[str]] = {i: [] for i in dict.fromkeys(ids)}
    laps: dict[tuple[str, str, str], list[int]] = {}
    for tag in tags:
        if tag.activity_id not in out:
            continue
        if tag.scope == "lap" and tag.lap_number is not None:
            laps.setdefault((tag.activity_id, tag.key, tag.value), []).append(tag.lap_number)
        else:
            out[tag.activity_id].append(tag.label())
    for (run, key, value), numbers in laps.items():
        out[run].append(f"{key}={value}@lap{','.join(str(n) for n in sorted(numbers))}")
    for run in out:
        out[run].sort()
    return out
