"""The plan as an iCalendar (RFC 5545) file: one all-day event per session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stridelab.training._builder import Plan
from stridelab.training._library import Library, load_library

__all__ = ["plan_to_ics"]


def _amount(i_dict: dict[str, object]) -> str:
    for key, unit in (("reps", " reps"), ("hold_s", " s hold"), ("distance_m", " m"), ("duration_s", " s")):
        if key in i_dict:
            return f"{i_dict[key]}{unit}"
    return ""


def plan_to_ics(plan: Plan, *, plan_id: int, created_at: str, library: Library | None = None) -> bytes:
    """The calendar bytes. UIDs are stable (plan id + date), DTSTAMP is the plan's creation instant."""
    from icalendar import Calendar, Event  # only when a calendar is made (~30 ms to import)

    from stridelab.version import __version__

    lib = library or load_library()
    stamp = datetime.fromisoformat(created_at.replace("Z", "+00:00")).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", f"-//stridelab//training plan {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "stridelab training plan")
    names = {p.number: p.name for p in plan.phases}
    for s in plan.sessions:
        d = s.to_dict()
        lines = [f"Phase {s.phase} ({names[s.phase]}), week {s.week}, about {s.minutes_est:g} min."]
        if s.lighter:
            lines.append("Lighter week.")
        for item in d["items"]:
            side = "" if item["side"] == "both" else f" - {item['side']}"
            lines.append(f"- {lib[item['exercise_id']].name}{side}: {item['sets']} x {_amount(item)}")
        lines.append("Pain 7/10 or more: stop that exercise and see a professional.")
        ev = Event()
        ev.add("uid", f"stridelab-plan-{plan_id}-{s.date.isoformat()}@stridelab")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", s.date)
        ev.add("dtend", s.date + timedelta(days=1))
        ev.add("summary", f"stridelab: phase {s.phase} session ({s.minutes_est:g} min)")
        ev.add("description", "\n".join(lines))
        ev.add("categories", ["stridelab", f"phase {s.phase}"])
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    return bytes(cal.to_ical())
