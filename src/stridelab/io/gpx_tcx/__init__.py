"""GPX and TCX files: streamed, namespace-agnostic readers into :class:`~stridelab.model.Activity`."""

from __future__ import annotations

from stridelab.io.gpx_tcx._build import EARTH_RADIUS_M, haversine_m
from stridelab.io.gpx_tcx._reader import GpxReader, TcxReader
from stridelab.io.gpx_tcx._xml import MAX_XML_BYTES, XmlActivityError, parse_number, parse_time_ns

__all__ = [
    "EARTH_RADIUS_M",
    "MAX_XML_BYTES",
    "GpxReader",
    "TcxReader",
    "XmlActivityError",
    "haversine_m",
    "parse_number",
    "parse_time_ns",
]
