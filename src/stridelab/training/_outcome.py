"""The outcome link: measured asymmetry before, during and after each phase, with adherence.

Windows: ``before`` (the 28 days before the plan), one per phase, ``after`` (up to 28 days after the
plan, once it ended). For each: one-leg balance test means per side and eyes condition with their
asymmetry, the runs' GCT balance (labelled pace-adjusted or raw) and the phase's adherence.

Pure: the caller passes the balance tests, the per-run asymmetry rows from :func:`outcome_since` to
today and the plan's session logs (``stridelab.services.training`` gathers them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from stridelab.lazy import lazy_module
from stridelab.training._builder import Plan
from stridelab.training._log import adherence
from stridelab.training._records import SessionLog

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = ["WINDOW_DAYS", "balance_chart", "draw_outcome_chart", "outcome_rows", "outcome_since"]

WINDOW_DAYS: Final[int] = 28


def outcome_since(plan: Plan) -> date:
    """First day whose runs the outcome needs (the start of the ``before`` window)."""
    return plan.start - timedelta(days=WINDOW_DAYS)


def _windows(plan: Plan, today: date) -> list[tuple[str, date, date]]:
    out = [("before", outcome_since(plan), plan.start - timedelta(days=1))]
    out += [(f"phase {p.number}", p.start, p.end) for p in plan.phases]
    if today > plan.end:
        out.append(("after", plan.end + timedelta(days=1), plan.end + timedelta(days=WINDOW_DAYS)))
    return out


def _side_means(tests: pd.DataFrame, eyes: str) -> tuple[float | None, float | None, float | None, int]:
    sub = tests[tests["eyes"] == eyes]
    left = sub.loc[sub["side"] == "left", "seconds"]
    right = sub.loc[sub["side"] == "right", "seconds"]
    lm = float(left.mean()) if len(left) else None
    rm = float(right.mean()) if len(right) else None
    asym = None
    if lm is not None and rm is not None and max(lm, rm) > 0:
        asym = round(100.0 * (rm - lm) / max(lm, rm), 1)
    return (
        round(lm, 1) if lm is not None else None,
        round(rm, 1) if rm is not None else None,
        asym,
        len(sub),
    )


def outcome_rows(
    plan: Plan, today: date, tests: pd.DataFrame, runs: pd.DataFrame, logs: list[SessionLog]
) -> list[dict[str, Any]]:
    """One row per window. Asymmetry % = (right - left) / better x 100 (positive: the left leg is weaker).

    ``gct_balance_left_pct`` is the runs' mean LEFT share of ground contact (50 = even) and
    ``gct_balance_source`` says whether it is pace-adjusted or a raw mean. ``tests`` are all balance
    tests, ``runs`` the per-run asymmetry rows, ``logs`` the plan's session logs.
    """
    adh = adherence(plan, logs, today)
    adh_by_phase = {p["phase"]: p for p in adh["phases"]}
    rows = []
    for name, start, end in _windows(plan, today):
        end_eff = min(end, today)
        in_t = tests[(tests["date"] >= pd.Timestamp(start)) & (tests["date"] <= pd.Timestamp(end_eff))]
        ol, orr, oa, on = _side_means(in_t, "open")
        cl, cr, ca, cn = _side_means(in_t, "closed")
        r = runs[(runs["day"] >= start) & (runs["day"] <= end_eff)].dropna(subset=["balance_left_pct"])
        phase_no = int(name.split()[1]) if name.startswith("phase") else None
        ph = adh_by_phase.get(phase_no) if phase_no else None
        rows.append(
            {
                "window": name,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "complete": end <= today,
                "balance_open_left_s": ol,
                "balance_open_right_s": orr,
                "balance_open_asymmetry_pct": oa,
                "balance_closed_left_s": cl,
                "balance_closed_right_s": cr,
                "balance_closed_asymmetry_pct": ca,
                "n_balance_tests": on + cn,
                "gct_balance_left_pct": round(float(r["balance_left_pct"].mean()), 2) if len(r) else None,
                "gct_s": round(float(r["gct_s"].mean()), 4) if r["gct_s"].notna().any() else None,
                "n_runs": len(r),
                "gct_balance_source": " + ".join(sorted(set(r["source"]))) if len(r) else None,
                "adherence_pct": ph["adherence_pct"] if ph else None,
                "sessions_due": ph["due"] if ph else None,
            }
        )
    return rows


def _save(fig: Any, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def balance_chart(
    tests: pd.DataFrame,
    path: Path,
    *,
    title: str = "One-leg balance tests",
    function_tests: pd.DataFrame | None = None,
) -> Path:
    """Seconds per test over time, left vs right, eyes open (solid) and closed (dashed). PNG/SVG/PDF.

    With ``function_tests`` (rows of ``function_test_history``) a second panel shows the timed
    five-times sit-to-stand and tandem walk (seconds; steps off the line written beside a tandem walk)."""
    from matplotlib.figure import Figure

    with_functions = function_tests is not None and not function_tests.empty
    fig = Figure(figsize=(8, 6.5 if with_functions else 4))
    ax = fig.add_subplot(2, 1, 1) if with_functions else fig.add_subplot()
    if with_functions:
        assert function_tests is not None
        fx = fig.add_subplot(2, 1, 2)
        for test, style, label in (
            ("sit_to_stand_5x", "-o", "5x sit-to-stand"),
            ("tandem_walk", "--s", "tandem walk"),
        ):
            sub = function_tests[function_tests["test"] == test].sort_values(["date", "id"])
            if sub.empty:
                continue
            days = sub["date"].dt.date.to_numpy()
            fx.plot(days, sub["seconds"].to_numpy(dtype=float), style, label=label)
            for d, s, off in zip(days, sub["seconds"].tolist(), sub["steps_off"].tolist(), strict=True):
                if test == "tandem_walk" and not pd.isna(off):
                    fx.annotate(
                        f"{int(off)} off", (d, s), textcoords="offset points", xytext=(4, 4), fontsize=7
                    )
        fx.legend(loc="best", fontsize="small")
        fx.set_ylabel("test time (s)")
        fx.set_title("Function tests")
    colors = {"left": "tab:blue", "right": "tab:orange"}
    for eyes, style in (("open", "-o"), ("closed", "--s")):
        for side in ("left", "right"):
            sub = tests[(tests["eyes"] == eyes) & (tests["side"] == side)].sort_values("date")
            if len(sub):
                ax.plot(
                    sub["date"].dt.date.to_numpy(),
                    sub["seconds"].to_numpy(),
                    style,
                    color=colors[side],
                    label=f"{side}, eyes {eyes}",
                )
    if tests.empty:
        ax.text(0.5, 0.5, "no balance tests yet", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(loc="best", fontsize="small")
    ax.set_ylabel("time on one leg (s)")
    ax.set_title(title)
    fig.autofmt_xdate()
    return _save(fig, path)


#: verdict -> colour of its label on the outcome chart
VERDICT_COLOURS: Final[dict[str, str]] = {
    "improved": "tab:green",
    "worse": "tab:red",
    "no change": "dimgray",
    "not enough runs": "darkgray",
    "not started": "lightgray",
}


def draw_outcome_chart(
    plan: Plan,
    today: date,
    tests: pd.DataFrame,
    runs: pd.DataFrame,
    logs: list[SessionLog],
    path: Path,
    verdicts: Sequence[tuple[date, date, str, str]] = (),
) -> Path:
    """Three panels on one time axis, phases shaded: balance-test asymmetry, runs' GCT balance, adherence.

    The data as for :func:`outcome_rows`. ``verdicts``: ``(start, end, verdict, numbers)`` per phase
    (improved / no change / worse / not enough runs, and the change with its interval), written over
    the phase in the runs' panel. PNG/SVG/PDF by the suffix of ``path``.
    """
    from matplotlib.figure import Figure

    rows = outcome_rows(plan, today, tests, runs, logs)
    runs = runs.dropna(subset=["balance_left_pct"])
    adh = adherence(plan, logs, today)
    fig = Figure(figsize=(9, 7))
    ax1, ax2, ax3 = fig.subplots(3, 1, sharex=True)
    for ax in (ax1, ax2, ax3):
        for p in plan.phases:
            ax.axvspan(p.start, p.end + timedelta(days=1), alpha=0.08 * p.number, color="tab:green")
    for eyes, marker in (("open", "o"), ("closed", "s")):
        sub = tests[tests["eyes"] == eyes]
        if sub.empty:
            continue
        piv = sub.pivot_table(index="date", columns="side", values="seconds", aggfunc="mean")
        if {"left", "right"} <= set(piv.columns):
            best = pd.Series(np.maximum(piv["left"], piv["right"]), index=piv.index)
            asym = 100.0 * (piv["right"] - piv["left"]) / best.where(best > 0)
            ax1.plot(pd.DatetimeIndex(piv.index).date, asym.to_numpy(), marker=marker, label=f"eyes {eyes}")
    ax1.axhline(0.0, color="grey", lw=0.8)
    ax1.set_ylabel("balance test\n(R-L)/best %")
    if ax1.get_legend_handles_labels()[0]:
        ax1.legend(loc="best", fontsize="small")
    else:
        ax1.text(0.5, 0.5, "no paired L/R balance tests", ha="center", va="center", transform=ax1.transAxes)
    for row in rows:
        if row["balance_open_asymmetry_pct"] is not None:
            ax1.hlines(
                row["balance_open_asymmetry_pct"],
                date.fromisoformat(row["start"]),
                date.fromisoformat(row["end"]),
                colors="black",
                lw=2,
            )
    if len(runs):
        for source, sub in runs.groupby("source"):
            ax2.plot(list(sub["day"]), sub["balance_left_pct"].to_numpy(), ".", label=str(source))
        ax2.legend(loc="best", fontsize="small")
    else:
        ax2.text(0.5, 0.5, "no runs with GCT balance", ha="center", va="center", transform=ax2.transAxes)
    ax2.axhline(50.0, color="grey", lw=0.8)
    ax2.set_ylabel("GCT balance\nleft %")
    for start, end, verdict, numbers in verdicts:  # the plain verdict of each phase, over its span
        mid = start + (end - start) / 2
        ax2.annotate(
            f"{verdict}\n{numbers}" if numbers else verdict,
            xy=(mid, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -4),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize="x-small",
            color=VERDICT_COLOURS.get(verdict, "black"),
            fontweight="bold",
            gid=f"verdict-{verdict.replace(' ', '-')}",
        )
    weeks = adh["weeks"]
    if weeks:
        starts = [plan.start + timedelta(days=7 * (w["week"] - 1)) for w in weeks]
        ax3.bar(starts, [w["adherence_pct"] or 0.0 for w in weeks], width=6, align="edge", color="tab:purple")
    ax3.set_ylim(0, 105)
    ax3.set_ylabel("adherence %")
    fig.suptitle("Did the program move the numbers?")
    fig.autofmt_xdate()
    return _save(fig, path)
