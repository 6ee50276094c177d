"""Frames, units, mirroring, public API and layering of the IMU engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stridelab.gait as gait
import stridelab.io.imu as io_imu
from stridelab.frames import (
    BODY_FRAME,
    MIRROR_LEFT_RIGHT,
    FrameTransform,
    check_option,
    mirror_to_left,
    to_body_frame,
)
from stridelab.gait.orientation import frame_from_axes
from stridelab.sim.imu import random_rotation
from stridelab.units import acc_to_si_factor, gyr_to_si_factor

SRC = Path(__file__).resolve().parents[2] / "src" / "stridelab"


def test_check_option_message():
    with pytest.raises(ValueError) as exc:
        check_option("placement", "hip", ("foot", "shank", "sacrum"))
    assert str(exc.value) == (
        "Invalid value for the 'placement' parameter. Allowed values are 'foot', 'shank', 'sacrum', "
        "but got 'hip' instead."
    )


def test_units():
    assert acc_to_si_factor("g") == pytest.approx(9.80665)
    assert gyr_to_si_factor("deg/s") == pytest.approx(np.pi / 180)
    with pytest.raises(ValueError, match="'acc_unit' parameter"):
        acc_to_si_factor("furlong")


@given(st.integers(min_value=0, max_value=10_000))
def test_transforms_compose_and_invert(seed):
    rng = np.random.default_rng(seed)
    a = FrameTransform("sensor", "body", random_rotation(rng))
    b = FrameTransform("body", "world", random_rotation(rng))
    v = rng.normal(size=(5, 3))
    composed = b.compose(a)
    assert composed.from_frame == "sensor" and composed.to_frame == "world"
    assert np.allclose(composed.apply(v, frame="sensor"), b.apply(a.apply(v, frame="sensor"), frame="body"))
    assert np.allclose(a.inverse().apply(a.apply(v, frame="sensor"), frame="body"), v)
    with pytest.raises(ValueError, match="Cannot compose"):
        a.compose(b)
    with pytest.raises(ValueError, match="in the 'body' frame"):
        a.apply(v, frame="body")


def test_transform_validation():
    with pytest.raises(ValueError, match="proper rotation"):
        FrameTransform("sensor", "body", np.diag([1.0, 1.0, -1.0]))


@given(st.integers(min_value=0, max_value=10_000))
def test_frame_from_axes_is_right_handed_with_ml_left(seed):
    rng = np.random.default_rng(seed)
    rot = random_rotation(rng)  # body -> sensor
    pa_s, si_s = rot[:, 0], rot[:, 2]
    frame = frame_from_axes(pa_s + 0.1 * si_s, si_s)  # a non-orthogonal forward guess is orthogonalised
    assert np.allclose(frame.rotation, rot.T, atol=1e-9)


def test_mirror_map_is_an_involution_and_flips_ml():
    body = pd.DataFrame(np.random.default_rng(0).normal(size=(4, 6)), columns=list(BODY_FRAME))
    assert set(MIRROR_LEFT_RIGHT) == set(BODY_FRAME)
    once = mirror_to_left(body, "right")
    assert np.allclose(mirror_to_left(once, "right").to_numpy(), body.to_numpy())
    assert np.allclose(once["acc_ml"], -body["acc_ml"]) and np.allclose(once["gyr_ml"], body["gyr_ml"])
    assert np.allclose(mirror_to_left(body, "left").to_numpy(), body.to_numpy())


def test_to_body_frame_columns():
    data = pd.DataFrame(
        np.eye(3).repeat(2, axis=0)[:, :3].repeat(2, axis=1),
        columns=["acc_x", "gyr_x", "acc_y", "gyr_y", "acc_z", "gyr_z"],
    )
    out = to_body_frame(data, FrameTransform("sensor", "body", np.eye(3)))
    assert list(out.columns) == list(BODY_FRAME)


def test_public_api():
    assert sorted(gait.__all__) == sorted(
        [
            "FootEventDetection",
            "GaitAnalysis",
            "ImuDataError",
            "SacrumEventDetection",
            "ShankEventDetection",
            "SingleLegStance",
            "SitToStand",
            "TandemWalk",
            "analyze_recording",
            "compare_sides",
            "detect_events",
            "sensor_orientations",
        ]
    )
    for name in gait.__all__:
        assert hasattr(gait, name)
    for name in io_imu.__all__:
        assert hasattr(io_imu, name)
