"""Sport-aware speed and local time with its zone (issue 16 display defects)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from stridelab.present import format as fmt


def test_each_sport_reads_in_its_own_unit() -> None:
    v = 1000.0 / 330.0  # 5:30/km
    assert fmt.sport_speed(v, "running") == "5:30/km"
    assert fmt.sport_speed(v, "running", units="imperial") == "8:51/mi"
    assert fmt.sport_speed(8.0, "cycling") == "28.8\u202fkm/h"  # not "2:05/km"
    assert fmt.sport_speed(8.0, "cycling", units="imperial") == "17.9\u202fmph"
    assert fmt.sport_speed(1.0, "swimming") == "1:40/100\u202fm"  # not "16:40/km"
    assert fmt.sport_speed(1.0, "swimming", units="imperial") == "1:31/100\u202fyd"
    assert fmt.sport_speed(0.1, "running", missing="-") == "-"  # 166 min/km is standing, not a pace
    assert fmt.sport_speed(None, "running", missing="-") == "-"
    assert fmt.speed_unit("cycling") == "km/h" and fmt.speed_unit("swimming") == "/100 m"
    assert fmt.speed_unit(None, units="imperial") == "/mi"


@given(st.floats(1.0, 8.0))
def test_running_pace_agrees_with_the_one_pace_formatter(v: float) -> None:
    assert fmt.sport_speed(v, "running") == fmt.pace_of_speed(v)


def test_local_time_carries_its_zone() -> None:
    ts = pd.Timestamp("2026-12-02 09:11:41", tz="UTC")
    assert fmt.local_day_time(ts, ZoneInfo("Europe/Berlin")) == "2026-12-02 10:11 CET"
    assert fmt.local_day_time(ts, "UTC") == "2026-12-02 09:11 UTC"
    summer = pd.Timestamp("2026-07-01 06:00", tz="UTC")
    assert fmt.local_day_time(summer, "America/New_York") == "2026-07-01 02:00 EDT"
    assert fmt.local_day_time(None) == fmt.DASH
    assert fmt.local_day_time(ts).endswith(tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))


def test_developer_fields_read_in_display_units() -> None:
    assert fmt.dev_value("dev_stryd_ground_time_s", 0.261) == "261 ms"  # not "0.261"
    assert fmt.dev_value("dev_stryd_leg_spring_stiffness_n_per_m", 14000.0) == "14.0 kN/m"  # not 1.4e+04
    assert fmt.dev_value("dev_stryd_vertical_oscillation_m", 0.0759) == "75.9 mm"
    assert fmt.dev_value("dev_stryd_power_w", 354.2) == "354 W"
    assert fmt.dev_value("dev_app_speed_m_s", 3.21) == "3.21 m/s"  # m/s, not "m" then "s"
    assert fmt.dev_value("dev_app_mystery", 12345.0) == "1.23e+04"
    assert fmt.dev_value("dev_stryd_power_w", None) == fmt.DASH


def test_pace_axes_tick_in_minutes_and_seconds() -> None:
    from stridelab.present.charts import pace_ticks, speed_pace_ticks

    vals, labels = pace_ticks(322.0, 368.0)  # 5:22 .. 6:08 per km
    assert labels[0] == "5:30" and all(":" in t and len(t.split(":")[1]) == 2 for t in labels)
    assert all(322.0 <= v <= 368.0 for v in vals) and 2 <= len(vals) <= 7
    speeds, text = speed_pace_ticks(2.5, 3.5)
    assert all(2.5 <= v <= 3.5 for v in speeds) and all(t.endswith("/km") for t in text)
    assert pace_ticks(float("nan"), 300.0) == ([], [])


def test_zone_legend_follows_the_bar_and_tells_left_from_right() -> None:
    from types import SimpleNamespace

    from stridelab.report import zones_plotly

    zones = {"red_left": 60.0, "orange_left": 120.0, "green": 600.0, "orange_right": 30.0, "red_right": 0.0}
    analysis = SimpleNamespace(summaries={"balance": SimpleNamespace(zones_s=zones)})  # the fields it reads

    fig = zones_plotly(analysis)  # type: ignore[arg-type]
    names = [t.name for t in fig.data]
    assert [n.split()[0] for n in names] == ["L", "L", "green", "R", "R"]
    ranks = [t.legendrank for t in fig.data]
    assert ranks == sorted(ranks)
    left, right = fig.data[1], fig.data[3]
    assert left.marker.color == right.marker.color  # Garmin's colour on both sides ...
    assert left.marker.pattern.shape != right.marker.pattern.shape  # ... told apart by the hatching
    assert fig.layout.legend.traceorder == "normal"
