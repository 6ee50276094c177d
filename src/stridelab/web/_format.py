"""Presentation helpers (Jinja filters): SI inside, units converted only here, at the edge."""

from __future__ import annotations

from jinja2 import Environment

from stridelab.present.format import (
    ZONE_LABELS,
    balance,
    ci_of,
    day,
    day_time,
    duration,
    estimate_of,
    flag_label,
    km,
    local_day_time,
    num,
    pace,
    sport_speed,
    zone_label,
)

__all__ = ["ZONE_LABELS", "install"]


def install(env: Environment) -> None:
    """Register the filters on a Jinja environment."""
    env.filters.update(
        num=num,
        km=km,
        duration=duration,
        pace=pace,
        balance=balance,
        day=day,
        day_time=day_time,
        zone_label=zone_label,
        flag_label=flag_label,
        est=estimate_of,
        ci=ci_of,
        sport_speed=sport_speed,
        local_day_time=local_day_time,
    )
