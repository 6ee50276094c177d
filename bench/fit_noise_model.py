"""Fit the simulator's noise model to the residuals of the per-run models on the real shared FIT files,
and compare the residual autocorrelation of simulated and real runs (issue 13, point 1).

Usage::

    python bench/fit_noise_model.py [--data /work/shared/data] [--sims 4]

1. Every running file of ``fit/MANIFEST.tsv`` with native running dynamics and 1-s records is read,
   its running part analysed (:func:`stridelab.analysis.analyze_run`), and the residuals of the
   balance / GCT / VO models taken (``MetricModel.resid``, on the 1-s grid: gaps stay gaps).
2. The pooled (sample-weighted) residual ACF at lags 1-300 s is fitted with
   ``(1 - w) r^h + w exp(-h / tau)`` (fast AR(1) + slow wander) by least squares; the GPS speed error
   is the SD and lag-1 correlation of recorded speed minus its 30-s centred mean.
3. Runs simulated with ``NOISE_MODELS["fitted"]`` (same durations as the real files, ``--sims`` each)
   are analysed the same way; the table gives the ACF at 1, 10, 60, 300 s of simulated vs real and
   whether they agree within +-0.05.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize

from stridelab.analysis import analyze_run, running_part
from stridelab.io.fit import read_activity

LAGS = (1, 10, 60, 300)
FIT_LAGS = (1, 2, 3, 5, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300)
KEYS = ("balance", "gct", "vo")


def acf_grid(t_s: np.ndarray, r: np.ndarray, lags: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(sum of products, number of pairs) of the residual at each time lag, and the variance sum."""
    idx = np.rint(t_s - t_s[0]).astype(int)
    g = np.full(idx[-1] + 1, np.nan)
    g[idx] = r - r.mean()
    var = np.nanmean(g * g)
    num = np.zeros(len(lags))
    cnt = np.zeros(len(lags))
    for i, h in enumerate(lags):
        if h >= g.size:
            continue
        a, b = g[:-h], g[h:]
        m = np.isfinite(a) & np.isfinite(b)
        num[i] = float(np.sum(a[m] * b[m]) / var)
        cnt[i] = float(m.sum())
    return num, cnt


def real_runs(
    data: Path,
) -> list[tuple[str, pd.DataFrame, pd.DataFrame | None, tuple[dict[str, object], ...]]]:
    out = []
    with open(data / "fit" / "MANIFEST.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    seen: set[tuple[int, str, str]] = set()
    for row in rows:
        if row["has_running_dynamics"] != "yes" or "running" not in row["sport"]:
            continue
        act = read_activity((data / "fit" / row["relpath"]).read_bytes(), source_path=row["relpath"])
        laps = pd.DataFrame(
            [
                {
                    "lap_index": x.index,
                    "intensity": x.intensity,
                    "avg_speed_m_s": x.avg_speed_m_s,
                    "sport": x.sport,
                }
                for x in act.laps
            ]
        )
        sess = pd.DataFrame([{"session_index": s.index, "sport": s.sport} for s in act.sessions])
        rec, laps = running_part(act.records, laps, sess)
        key = (len(rec), str(rec.index[0]), str(rec.index[-1]))
        if key in seen:
            continue  # the same activity in two files (e.g. triathlon_summary_first/last)
        seen.add(key)
        dt = np.diff(rec.index.asi8) / 1e9
        if len(rec) < 600 or np.median(dt) > 1.5:
            continue  # smart recording: no 1-s lags
        out.append((row["relpath"], rec, laps if len(laps) else None, act.devices))
    return out


def pooled_acf(analyses: list[object], lags: tuple[int, ...]) -> dict[str, np.ndarray]:
    out = {}
    for key in KEYS:
        num = np.zeros(len(lags))
        cnt = np.zeros(len(lags))
        for a in analyses:
            m = a.models.get(key)  # type: ignore[attr-defined]
            if m is None or m.resid is None:
                continue
            nn, cc = acf_grid(m.resid_t_s, m.resid, lags)
            num += nn
            cnt += cc
        out[key] = num / np.maximum(cnt, 1)
    return out


def fit_acf(acf: np.ndarray) -> tuple[float, float, float]:
    """(fast lag-1 correlation, slow share, slow tau_s) of ``(1 - w) r^h + w exp(-h / tau)``."""
    h = np.asarray(FIT_LAGS, dtype=float)

    def resid(p: np.ndarray) -> np.ndarray:
        r, w, tau = p
        return (1 - w) * r**h + w * np.exp(-h / tau) - acf

    sol = optimize.least_squares(resid, x0=[0.9, 0.3, 200.0], bounds=([0.0, 0.0, 20.0], [0.999, 1.0, 3000.0]))
    r, w, tau = sol.x
    return float(r), float(w), float(tau)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--sims", type=int, default=4)
    args = ap.parse_args(argv)
    runs = real_runs(args.data)
    real = [analyze_run(rec, laps, devices=dev) for _n, rec, laps, dev in runs]
    print(f"real files: {len(runs)} ({', '.join(Path(n).name for n, *_ in runs)})")
    acf_fit = pooled_acf(real, FIT_LAGS)
    for key in KEYS:
        r, w, tau = fit_acf(acf_fit[key])
        sds = [
            float(np.std(a.models[key].resid))
            for a in real
            if key in a.models and a.models[key].resid is not None
        ]
        sd = float(np.median(sds))
        print(
            f"fit {key}: residual SD (median) {sd:.4g}; fast AR(1) r = {r:.3f} "
            f"sd = {sd * math.sqrt(1 - w):.4g}; "
            f"slow wander share {w:.2f} sd = {sd * math.sqrt(w):.4g} tau = {tau:.0f} s"
        )
    gps = []
    for _n, rec, _l, _d in runs:
        v = pd.to_numeric(rec["speed_m_s"], errors="coerce")
        e = (v - v.rolling(31, center=True, min_periods=10).mean()).dropna().to_numpy()
        e = e[np.abs(e) < 1.0]
        if e.size > 100:
            gps.append((float(np.std(e)), float(np.corrcoef(e[1:], e[:-1])[0, 1])))
    print(
        "GPS speed error (recorded - 30 s mean): SD {:.3f} m/s, lag-1 r {:.2f} (median over files)".format(
            *np.median(gps, axis=0)
        )
    )

    from stridelab.sim import RunTruth, apply_noise_model, simulate_run

    sims = []
    for i, (_n, rec, _l, _d) in enumerate(runs):
        dur = float(min(max((rec.index[-1] - rec.index[0]).total_seconds(), 900.0), 7200.0))
        for j in range(args.sims):
            truth = apply_noise_model(RunTruth(kind="easy", duration_s=dur, warmup_s=300.0), "fitted")
            run = simulate_run(truth, seed=1000 * i + j)
            lp = pd.DataFrame(
                [
                    {"lap_index": x.index, "intensity": x.intensity, "avg_speed_m_s": x.avg_speed_m_s}
                    for x in run.laps
                ]
            )
            sims.append(analyze_run(run.records, lp))
    acf_real = pooled_acf(real, LAGS)
    acf_sim = pooled_acf(sims, LAGS)
    print(f"\nresidual ACF, real ({len(real)} files) vs simulated ({len(sims)} runs, NOISE_MODELS['fitted'])")
    print(f"{'metric':8s} {'lag_s':>5s} {'real':>6s} {'sim':>6s} {'diff':>6s}  within 0.05")
    ok = True
    for key in KEYS:
        for i, h in enumerate(LAGS):
            d = acf_sim[key][i] - acf_real[key][i]
            met = abs(d) <= 0.05
            ok &= met
            print(
                f"{key:8s} {h:5d} {acf_real[key][i]:6.2f} {acf_sim[key][i]:6.2f} {d:+6.2f}  "
                f"{'met' if met else 'NOT met'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
