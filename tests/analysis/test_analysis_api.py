"""Public surface and layering of the analysis and report packages."""

from __future__ import annotations

import typing
from pathlib import Path

import stridelab.analysis as analysis
import stridelab.report as report
import stridelab.services.analysis as analysis_service

_SRC = Path(analysis.__file__).resolve().parents[1]


def test_public_api_is_exported_and_documented() -> None:
    for module in (analysis, report):
        assert sorted(module.__all__) == sorted(set(module.__all__))
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and typing.get_origin(obj) is None:  # a Literal alias has no docstring
                assert obj.__doc__, f"{module.__name__}.{name} has no docstring"
    for name in ("analyze_run", "trend_analysis", "RunAnalysis"):
        assert name in analysis.__all__
    # the store-backed verbs moved to the service layer (the analysis package is pure)
    for name in ("analyze_activity", "run_table", "trend_analysis", "athlete_ref_speed", "RunAnalysis"):
        assert name in analysis_service.__all__
        obj = getattr(analysis_service, name)
        assert not callable(obj) or obj.__doc__, f"services.analysis.{name} has no docstring"
