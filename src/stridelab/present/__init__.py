"""The presentation layer: units, labels, rounding, JSON shaping and chart building, in one place.

Analysis results are SI; everything a person reads (or a ``--json`` consumer parses) is shaped here,
driven by the ``METRICS`` registry. The edges (``cli``, ``web``, ``report``) render with these helpers
and never format numbers themselves.

- :mod:`stridelab.present.format`: the one formatter (numbers, durations, paces, balance, clocks).
- :func:`to_jsonable` / :func:`dumps`: the one JSON sanitiser.
"""

from __future__ import annotations

from stridelab.jsonsafe import dumps, to_jsonable
from stridelab.present import format

__all__ = ["dumps", "format", "to_jsonable"]
