"""Garmin colour zones and sensor detection."""

from __future__ import annotations

import numpy as np

from stridelab.analysis import balance_zone_index, detect_sensor, gauge_zone_index, gauge_zones_for


def test_balance_zones_follow_garmin_limits_on_displayed_values() -> None:
    left = np.array([50.0, 50.7, 50.74, 50.8, 52.2, 52.3, 49.3, 49.2, 47.8, 47.7, np.nan])
    assert balance_zone_index(left).tolist() == [2, 2, 2, 1, 1, 0, 2, 3, 3, 4, -1]


def test_balance_zones_mirror_left_right() -> None:
    left = np.linspace(45, 55, 101)
    zones = balance_zone_index(left)
    mirrored = balance_zone_index(100.0 - left)
    assert (zones == 4 - mirrored).all()


def test_gauge_zones_gct_and_cadence() -> None:
    gct = gauge_zones_for("gct", "chest")
    assert gct is not None
    assert gauge_zone_index(
        np.array([200.0, 217.0, 218.0, 248.0, 249.0, 277.0, 278.0, 308.0, 309.0]), gct
    ).tolist() == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
        4,
    ]
    cad = gauge_zones_for("cadence", "wrist")
    assert cad is not None
    assert gauge_zone_index(np.array([190.0, 183.0, 174.0, 164.0, 163.0, 153.0, 152.0]), cad).tolist() == [
        0,
        1,
        1,
        2,
        3,
        3,
        4,
    ]


def test_vertical_oscillation_bands_differ_between_chest_and_waist() -> None:
    chest, waist = gauge_zones_for("vo", "chest"), gauge_zones_for("vo", "waist")
    assert chest is not None and waist is not None
    vo_mm = np.array([66.0])  # purple at the waist (< 6.8 cm), blue at the chest (6.4-8.1 cm)
    assert gauge_zone_index(vo_mm, waist).tolist() == [0]
    assert gauge_zone_index(vo_mm, chest).tolist() == [1]
    assert gauge_zones_for("balance", "chest") is None


def test_detects_sensors_from_names_and_numbers() -> None:
    pro = detect_sensor([{"manufacturer": "garmin", "garmin_product": "hrm_pro"}], has_balance=True)
    assert (pro.label, pro.placement, pro.identified) == ("Garmin HRM-Pro", "chest", True)
    pod = detect_sensor([{"manufacturer": 1, "product": 2593.0}], has_balance=True)
    assert pod.placement == "waist"
    stryd = detect_sensor(
        [{"manufacturer": "stryd", "product": 4660.0, "device_type": 124.0}], has_balance=False
    )
    assert stryd.placement == "foot"
    # the torso accessory wins over the foot pod
    both = detect_sensor(
        [
            {"manufacturer": "stryd", "device_type": 124},
            {"manufacturer": "garmin", "garmin_product": "hrm_run"},
        ],
        has_balance=True,
    )
    assert both.label == "Garmin HRM-Run"


def test_unidentified_sensor_is_said_so() -> None:
    assert detect_sensor([], has_balance=True).identified is False
    assert detect_sensor(None, has_balance=False).placement == "wrist"


def test_developer_field_units_pick_the_longest_suffix() -> None:
    from stridelab.present.metrics import dev_unit as _dev_unit

    assert _dev_unit("dev_stryd_leg_spring_stiffness_n_per_m") == "N/m"  # not "m"
    assert _dev_unit("dev_app0_instantaneous_speed_m_s") == "m/s"  # not "s"
    assert _dev_unit("dev_app0_instantaneous_pace_min_km") == "min/km"
    assert _dev_unit("dev_stryd_cadence_rpm") == "rpm"
    assert _dev_unit("dev_stryd_form_power_w") == "W"
    assert _dev_unit("dev_stryd_ground_time_s") == "s"
    assert _dev_unit("dev_stryd_vertical_oscillation_m") == "m"
    assert _dev_unit("dev_x_mystery") == ""
