"""Experiments (``/experiments``): the runner's N-of-1 experiments -- the list with how many blocks
are tagged per arm, and one experiment's result (effect on GCT balance with its CI, per-block values,
the protocol in plain words).

Built on :mod:`stridelab.services.experiments` only. Results are memoised per runs-index
version and tags/experiments fingerprint: tagging more runs (CLI) recomputes them.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

import stridelab.web._charts as _charts
from stridelab.services import experiments
from stridelab.web._state import WebState
from stridelab.web.pages._common import JSONText, render, state

__all__ = ["experiments_api", "router"]

router = APIRouter()
_NAME = Query(..., min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$", description="Experiment name")


def experiments_api() -> ModuleType:
    """:mod:`stridelab.services.experiments`, the service the page uses (never the store or the cores)."""
    return experiments


def _overview(st: WebState) -> list[dict[str, Any]]:
    return experiments.experiment_overview(st.store, st.athlete)


def _result(st: WebState, name: str) -> dict[str, Any]:
    """The experiment's analysis -- a read: it loads the tagged runs' records and writes nothing
    (the test ``test_requests_never_write_outside_the_writer`` holds it to that)."""
    version = (st.index.version, _tags_fingerprint(st))
    got = st.memo.get(f"experiment:{name}")
    if got is not None and got[0] == version:
        return got[1]
    if not any(e.name == name.strip() for e in experiments.list_experiments(st.store, st.athlete)):
        raise HTTPException(404, f"No experiment {name!r}.")
    analysed = experiments.analyze_experiment(st.store, st.athlete, name)
    result: dict[str, Any] = analysed.to_dict()
    result["protocol_text"] = experiments.protocol_text(analysed.experiment)
    result["chart"] = _blocks_chart(result)
    st.memo[f"experiment:{name}"] = (version, result)
    return result


def _tags_fingerprint(st: WebState) -> str:
    """Changes when tags or experiment definitions change (from the CLI too): tagging does not touch
    the activities, so the runs index version alone would serve a stale result. Two cheap reads."""
    tags = experiments.list_tags(st.store, st.athlete)
    return repr((tags, experiments.list_experiments(st.store, st.athlete)))


def _blocks_chart(result: dict[str, Any]) -> dict[str, Any]:
    """Pace-adjusted balance of every block, per arm (a strip plot)."""
    blocks = result.get("blocks") or []
    if not blocks:
        return _charts.message_chart("Blocks", "no tagged blocks yet")
    arms = result.get("arms") or []
    colours = ("#1f77b4", "#d62728")
    data = []
    for i, arm in enumerate(arms):
        sel = [b for b in blocks if b.get("arm") == arm and b.get("balance_left_pct") is not None]
        data.append(
            {
                "type": "box",
                "name": arm,
                "y": [b["balance_left_pct"] for b in sel],
                "boxpoints": "all",
                "jitter": 0.4,
                "pointpos": 0,
                "marker": {"color": colours[i % 2]},
                "text": [b.get("label") or b["id"][:10] for b in sel],
                "hovertemplate": "%{text}<br>%{y:.2f} % left<extra>" + str(arm) + "</extra>",
            }
        )
    effect = result.get("effect_pp")
    title = "Pace-adjusted GCT balance per block"
    if effect is not None and result.get("ci_low") is not None:
        title += (
            f": {arms[1]} − {arms[0]} = {effect:+.2f} pp [{result['ci_low']:+.2f}, {result['ci_high']:+.2f}]"
        )
    return {
        "data": data,
        "layout": {
            "template": "plotly_white",
            "height": 380,
            "margin": {"l": 55, "r": 15, "t": 45, "b": 45},
            "title": {"text": title},
            "yaxis": {"title": {"text": "left share of GCT (%)"}},
            "showlegend": False,
        },
    }


@router.get("/api/experiments", tags=["experiments"], summary="Experiments and their tagged blocks")
def api_experiments(request: Request) -> JSONText:
    """One row per experiment: design, arms, tagged blocks per arm, planned blocks."""
    return JSONText(_overview(state(request)))


@router.get("/api/experiments/result", tags=["experiments"], summary="One experiment's result")
def api_experiment(
    request: Request, name: str = _NAME, part: str | None = Query(None, pattern=r"^chart$")
) -> JSONText:
    """The ``experiment analyze --json`` contract (effect on balance, CI, p value, blocks) plus the
    protocol text and a chart spec (``part=chart``: the chart spec alone)."""
    result = _result(state(request), name)
    return JSONText(result["chart"] if part == "chart" else result)


@router.get("/experiments", response_class=HTMLResponse, include_in_schema=False)
def experiments_page(request: Request, name: str | None = Query(None, max_length=80)) -> HTMLResponse:
    st = state(request)
    rows = _overview(st)
    result = _result(st, name) if name else None
    return render(request, "experiments.html", title="Experiments", rows=rows, result=result, name=name)
