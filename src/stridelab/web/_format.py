"""Presentation helpers (Jinja filters): SI inside, units converted only here, at the edge."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

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


def _units(ctx: Context) -> str:
    u = ctx.get("units", "metric")
    return u if u in ("metric", "imperial") else "metric"


@pass_context
def _km(ctx: Context, distance_m: Any, **kw: Any) -> str:
    """Distance in the page's unit system (``units`` in the render context: km or mi)."""
    return km(distance_m, units=_units(ctx), **kw)


@pass_context
def _pace(ctx: Context, seconds_per_km: Any, **kw: Any) -> str:
    return pace(seconds_per_km, units=_units(ctx), **kw)


@pass_context
def _sport_speed(ctx: Context, speed_m_s: Any, sport: str | None = None, **kw: Any) -> str:
    return sport_speed(speed_m_s, sport, units=_units(ctx), **kw)


def install(env: Environment) -> None:
    """Register the filters on a Jinja environment. ``km``, ``pace`` and ``sport_speed`` follow the
    page's ``units`` (metric or imperial, the viewer's display setting)."""
    env.filters.update(
        num=num,
        km=_km,
        duration=duration,
        pace=_pace,
        balance=balance,
        day=day,
        day_time=day_time,
        zone_label=zone_label,
        flag_label=flag_label,
        est=estimate_of,
        ci=ci_of,
        sport_speed=_sport_speed,
        local_day_time=local_day_time,
    )
