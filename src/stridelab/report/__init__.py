"""Charts (matplotlib PNG, Plotly) and self-contained HTML reports of running-dynamics analyses.

from stridelab.report import render_run_html, write_html
write_html(render_run_html(analysis, ref_speed_m_s=3.0), Path("run.html"))
"""

from stridelab.report._html import render_run_html, render_trend_html, write_html
from stridelab.report._mpl import (
    balance_speed_figure,
    balance_timeline_figure,
    drift_figure,
    save_run_pngs,
    save_trend_png,
    trend_figure,
)
from stridelab.report._plotly import (
    balance_speed_plotly,
    balance_timeline_plotly,
    drift_plotly,
    figure_div,
    trend_plotly,
    zones_plotly,
)

__all__ = [
    "balance_speed_figure",
    "balance_speed_plotly",
    "balance_timeline_figure",
    "balance_timeline_plotly",
    "drift_figure",
    "drift_plotly",
    "figure_div",
    "render_run_html",
    "render_trend_html",
    "save_run_pngs",
    "save_trend_png",
    "trend_figure",
    "trend_plotly",
    "write_html",
    "zones_plotly",
]
