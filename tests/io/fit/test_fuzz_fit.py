"""Fuzzing the fast FIT engine with hypothesis-driven mutations of real corpus files.

Lenient decoding never raises (and never falls back to its internal-error safety net); strict
decoding raises only :class:`FitDecodeError`; a truncated file yields a prefix of the records of the
whole file. Long runs: ``python bench/fuzz_fit.py --cases N``.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stridelab.io import NotAnActivityError
from stridelab.io.fit import read_activity
from stridelab.io.fit._decoder import INTERNAL_ERROR, read_fit
from stridelab.io.fit._types import FitDecodeError, FitFile

_DATA = Path(
    os.environ.get("STRIDELAB_SHARED_DATA", Path(__file__).resolve().parents[3].parent / "shared" / "data")
)
#: small but varied corpus files: chained, compressed timestamps, developer fields, big-endian, HRV,
#: broken ones, COROS misaligned fields (first 40 kB of it)
SEEDS = [
    "dtcooper__python-fitparse/activity-activity-filecrc.fit",
    "dtcooper__python-fitparse/antfs-dump.63.fit",
    "dtcooper__python-fitparse/activity-settings-corruptheader.fit",
    "muktihari__fit/activity_poolswim.fit",
    "Runalyze__Runalyze/HRV-example.fit",
    "tormoder__fit/unterminated-strings.fit",
    "dtcooper__python-fitparse/elemnt-bolt-no-application-id-inside-developer-data-id.fit",
    "GoldenCheetah__GoldenCheetah/moxy.fit",
    "Runalyze__Runalyze/swim-via-iq.fit",
    "dtcooper__python-fitparse/coros-pace-2-cycling-misaligned-fields.fit",
]
SETTINGS = settings(
    max_examples=int(os.environ.get("STRIDELAB_FUZZ_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def _seeds() -> tuple[bytes, ...]:
    root = _DATA / "fit"
    if not root.is_dir():
        pytest.skip(f"shared data directory {root} is missing")
    return tuple((root / rel).read_bytes()[:40_000] for rel in SEEDS)


def check(blob: bytes) -> FitFile:
    """The fuzz contract: lenient never raises; strict raises only FitDecodeError."""
    fit = read_fit(blob)
    for name in list(fit.messages):
        frame = fit.messages[name]  # every message type decodes (they are decoded lazily)
        assert frame.index.is_unique
    assert not any(INTERNAL_ERROR in p.message for p in fit.problems), fit.problems
    for p in fit.problems:
        assert 0 <= p.offset <= len(blob)
    try:
        read_fit(blob, strict=True)
    except FitDecodeError as exc:
        assert INTERNAL_ERROR not in str(exc)
    return fit


seed_index = st.integers(min_value=0, max_value=len(SEEDS) - 1)


@SETTINGS
@given(seed_index, st.floats(min_value=0.0, max_value=1.0))
def test_truncate_anywhere(shared_data: Path, i: int, frac: float) -> None:
    blob = _seeds()[i]
    cut = int(len(blob) * frac)
    fit = check(blob[:cut])
    whole = read_fit(blob)
    if "record" in fit.messages and len(fit.messages["record"]):
        part, full = fit.messages["record"], whole.messages["record"]
        assert len(part) <= len(full)
        for col in ("timestamp", "heart_rate", "distance"):
            if col in part.columns:
                a = part[col].astype("float64" if part[col].dtype.kind in "iuf" else object).tolist()
                b = (
                    full[col]
                    .iloc[: len(part)]
                    .astype("float64" if part[col].dtype.kind in "iuf" else object)
                    .tolist()
                )
                assert [x for x in a if x == x] == [x for x in b if x == x]


@SETTINGS
@given(seed_index, st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), min_size=1, max_size=12))
def test_flip_bytes(shared_data: Path, i: int, flips: list[tuple[float, int]]) -> None:
    blob = bytearray(_seeds()[i])
    for frac, value in flips:
        blob[min(int(frac * len(blob)), len(blob) - 1)] = value
    check(bytes(blob))
    # what ``stridelab import`` does with the bytes: an Activity, FitDecodeError with a reason, or
    # NotAnActivityError (a flipped file_id.type: skipped as "not an activity", a documented outcome)
    try:
        activity = read_activity(bytes(blob))
    except NotAnActivityError as exc:
        assert "file type" in str(exc)
    except FitDecodeError as exc:
        assert exc.reason
    else:
        assert activity.records.index.tz is not None and not activity.records.index.hasnans


@SETTINGS
@given(seed_index, seed_index, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_splice_two_files(shared_data: Path, i: int, j: int, a: float, b: float) -> None:
    x, y = _seeds()[i], _seeds()[j]
    check(x[: int(a * len(x))] + y[int(b * len(y)) :])


@SETTINGS
@given(seed_index, st.binary(min_size=14, max_size=14), st.sampled_from([12, 14, 0, 255]))
def test_random_headers(shared_data: Path, i: int, header: bytes, size_byte: int) -> None:
    blob = bytearray(_seeds()[i])
    blob[:14] = header
    check(bytes(blob))
    if size_byte in (12, 14):
        blob[0] = size_byte
        blob[8:12] = b".FIT"
        check(bytes(blob))


@SETTINGS
@given(st.binary(min_size=0, max_size=600))
def test_random_bytes(data: bytes) -> None:
    check(data)
    check(b"\x0e\x20\x5c\x08" + len(data).to_bytes(4, "little") + b".FIT\x00\x00" + data)


def test_seed_files_decode_cleanly(shared_data: Path) -> None:
    """The seeds are sound (apart from the two broken ones and the 40 kB cut): the mutations start from
    files the engine reads without damage."""
    root = _DATA / "fit"
    broken = {
        "dtcooper__python-fitparse/activity-activity-filecrc.fit",
        "dtcooper__python-fitparse/activity-settings-corruptheader.fit",
    }
    counts = []
    for rel, blob in zip(SEEDS, _seeds(), strict=True):
        fit = read_fit(blob)
        counts.append(len(fit.get("record")))
        whole = (root / rel).stat().st_size <= len(blob)
        damage = [p for p in fit.problems if p.damaged]
        if whole and rel not in broken:
            assert not damage, (rel, damage)
        else:
            assert damage, rel
    assert min(counts) > 0 and int(np.sum(counts)) > 100
