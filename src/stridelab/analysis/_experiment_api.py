"""Public surface of tags, N-of-1 experiments and personal baselines (issue #8).

Re-export these names from :mod:`stridelab.analysis` (``from stridelab.analysis._experiment_api import
*``); the CLI imports them from here.

Tags: :func:`add_tags`, :func:`list_tags`, :func:`remove_tags`, :func:`tags_for_runs` (labels per run id
for every place runs are listed). Experiments: :func:`create_experiment`, :func:`list_experiments`,
:func:`experiment_overview` (cheap rows for lists), :func:`analyze_experiment` (-> ExperimentResult,
``.to_dict()`` is the ``experiment analyze --json`` contract), :func:`protocol_text`. Baselines:
:func:`baseline_rows` (-> BaselineRow list, ``.to_dict()`` rows of ``baseline --json``). Pure parts:
:func:`extract_blocks`, :func:`compare_arms`, :func:`baseline_table`. Validation on the synthetic
runner: :func:`validate_design`.
"""

from __future__ import annotations

from stridelab.analysis._baseline import BaselineRow, Explanation, baseline_rows, baseline_table
from stridelab.analysis._experiment import (
    Experiment,
    ExperimentError,
    ExperimentResult,
    analyze_experiment,
    create_experiment,
    delete_experiment,
    experiment_overview,
    get_experiment,
    list_experiments,
    protocol_text,
)
from stridelab.analysis._experiment_blocks import EXPERIMENT_METRICS, BlockSpec, BlockValue, extract_blocks
from stridelab.analysis._experiment_stats import DESIGNS, Comparison, compare_arms
from stridelab.analysis._experiment_validation import ValidationRow, validate_design
from stridelab.analysis._tags import (
    EXPERIMENT_MIGRATIONS,
    Tag,
    TagError,
    add_tags,
    list_tags,
    parse_clock,
    parse_laps,
    parse_tag,
    remove_tags,
    tags_for_runs,
)

__all__ = [
    "DESIGNS",
    "EXPERIMENT_METRICS",
    "EXPERIMENT_MIGRATIONS",
    "BaselineRow",
    "BlockSpec",
    "BlockValue",
    "Comparison",
    "Experiment",
    "ExperimentError",
    "ExperimentResult",
    "Explanation",
    "Tag",
    "TagError",
    "ValidationRow",
    "add_tags",
    "analyze_experiment",
    "baseline_rows",
    "baseline_table",
    "compare_arms",
    "create_experiment",
    "delete_experiment",
    "experiment_overview",
    "extract_blocks",
    "get_experiment",
    "list_experiments",
    "list_tags",
    "parse_clock",
    "parse_laps",
    "parse_tag",
    "protocol_text",
    "remove_tags",
    "tags_for_runs",
    "validate_design",
]
