"""Zone bands on the dynamics charts (issue 16): the shaded bands agree with the analysis' own zone
classifiers (Garmin's published limits), cover only the plotted range and never overlap."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stridelab.analysis import BALANCE_ZONE_NAMES, balance_zone_index, gauge_zone_index, gauge_zones_for
from stridelab.present.charts import zone_shapes

_GAUGE_NAMES = ("purple", "blue", "green", "orange", "red")
_RANGES = {"gct": (150.0, 380.0), "vo": (40.0, 150.0), "vr": (4.0, 13.0), "cadence": (130.0, 200.0)}


def _colour_at(shapes: list[dict[str, object]], y: float) -> str | None:
    hits = [s for s in shapes if float(s["y0"]) <= y < float(s["y1"])]  # type: ignore[arg-type]
    assert len(hits) <= 1, hits  # bands never overlap
    return str(hits[0]["name"]).split()[-1] if hits else None


@settings(max_examples=60, deadline=None)
@given(
    metric=st.sampled_from(sorted(_RANGES)),
    placement=st.sampled_from(["chest", "waist"]),
    u=st.floats(0.0, 1.0),
)
def test_gauge_bands_match_the_classifier(metric: str, placement: str, u: float) -> None:
    lo, hi = _RANGES[metric]
    shapes = zone_shapes(metric, lo, hi, placement=placement)
    zones = gauge_zones_for(metric, placement)
    assert zones is not None and shapes
    assert min(float(s["y0"]) for s in shapes) >= lo - 0.05 * (hi - lo) - 1e-9
    assert max(float(s["y1"]) for s in shapes) <= hi + 0.05 * (hi - lo) + 1e-9
    step = 10.0 ** (-zones.decimals)
    y = round((lo + u * (hi - lo)) / step) * step  # a displayed value
    idx = int(gauge_zone_index(np.array([y]), zones)[0])
    assert _colour_at(shapes, y) == _GAUGE_NAMES[idx], (metric, placement, y)


@settings(max_examples=60, deadline=None)
@given(y=st.floats(44.0, 56.0).map(lambda v: round(v, 1)))
def test_balance_bands_match_the_classifier(y: float) -> None:
    shapes = zone_shapes("balance", 44.0, 56.0)
    name = BALANCE_ZONE_NAMES[int(balance_zone_index(np.array([y]))[0])]
    assert _colour_at(shapes, y) == name.split("_")[0]


def test_no_bands_without_zones_or_data() -> None:
    assert zone_shapes("power", 100.0, 300.0) == []
    assert zone_shapes("gct", float("nan"), 250.0) == []
    # a narrow range gets only the bands it crosses: never stretches the axis to 100 %
    shapes = zone_shapes("balance", 50.0, 50.5)
    assert [str(s["name"]).split()[-1] for s in shapes] == ["green"]
