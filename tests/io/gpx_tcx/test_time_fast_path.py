"""The ``...Z`` fast path of ``parse_time_ns`` gives what the general (datetime) path gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stridelab.io.gpx_tcx._xml import parse_time_ns

_DIGITS = st.text(alphabet="0123456789", min_size=2, max_size=2)


@given(
    st.integers(0, 2300),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
)
def test_z_times_match_the_general_path(y: int, mo: int, d: int, h: int, mi: int, s: int) -> None:
    text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
    assert parse_time_ns(text + "Z") == parse_time_ns(text + "+00:00")


@given(st.text(alphabet="0123456789-T: +Za/²", min_size=20, max_size=20))
def test_any_20_characters_ending_in_z_match_the_general_path(text: str) -> None:
    z = text[:19] + "Z"
    assert parse_time_ns(z) == parse_time_ns(text[:19] + "+00:00")


def test_examples() -> None:
    assert parse_time_ns("1970-01-01T00:00:01Z") == (1_000_000_000, True)
    assert parse_time_ns("2024-02-30T00:00:00Z") == (None, True)
    assert parse_time_ns("2024-05-01T24:00:00Z") == (None, True)
    assert parse_time_ns("2024-05-01T06:30:0²Z") == (None, True)
