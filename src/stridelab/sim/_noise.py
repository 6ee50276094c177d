"""Noise models of the simulator: the plain AR(1) model and the one fitted to the real FIT files.

``NOISE_MODELS["fitted"]`` holds the parameters estimated by ``bench/fit_noise_model.py`` from the
residuals of the per-run models on the shared real running files (docs/analysis.md, section 3a, has
the fit and the residual autocorrelations of simulated vs real runs). ``NOISE_MODELS["ar1"]`` is the
former simulator noise (AR(1) only, no wander, no lap offsets, no GPS speed error).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from ._truth import RunTruth, invalid_value_error

__all__ = ["NOISE_MODELS", "RUN_OFFSET_SD_PP", "apply_noise_model"]

#: parameters of :class:`RunTruth` each noise model sets (the rest of the truth is kept)
NOISE_MODELS: Final[dict[str, dict[str, float | None]]] = {
    "ar1": {
        "balance_wander_sd_pp": 0.0,
        "gct_wander_sd_s": 0.0,
        "vertical_oscillation_wander_sd_m": 0.0,
        "lap_offset_share": 0.0,
        "speed_gps_noise_sd_m_s": 0.0,
        "gct_noise_phi": None,
    },
    # bench/fit_noise_model.py (real residuals of balance, GCT and VO; see docs/analysis.md)
    "fitted": {
        "balance_noise_sd_pp": 0.40,
        "balance_noise_phi": 0.96,
        "balance_wander_sd_pp": 0.35,
        "wander_tau_s": 300.0,
        "gct_noise_sd_s": 0.005,
        "vertical_oscillation_noise_sd_m": 0.0035,
        "dynamics_noise_phi": 0.84,
        "gct_wander_sd_s": 0.0032,
        "gct_noise_phi": 0.90,
        "vertical_oscillation_wander_sd_m": 0.0022,
        "lap_offset_share": 0.3,
        "speed_gps_noise_sd_m_s": 0.15,
        "speed_gps_noise_phi": 0.8,
    },
}

#: day-to-day sd of a runner's balance level (pp) per noise model, for ``balance_run_offset_pp`` in
#: validations; not identifiable from the shared files (one run per runner): an assumption (docs)
RUN_OFFSET_SD_PP: Final[dict[str, float]] = {"ar1": 0.0, "fitted": 0.2}


def apply_noise_model(truth: RunTruth, name: str, *, scale: float = 1.0) -> RunTruth:
    """``truth`` with the noise parameters of ``NOISE_MODELS[name]``; ``scale`` multiplies every
    standard deviation (runners and sensors differ)."""
    if name not in NOISE_MODELS:
        raise invalid_value_error("noise_model", tuple(NOISE_MODELS), name)
    params: dict[str, Any] = {
        k: (v * scale if v is not None and k.endswith(("_sd_pp", "_sd_s", "_sd_m", "_sd_m_s")) else v)
        for k, v in NOISE_MODELS[name].items()
    }
    return dataclasses.replace(truth, **params)
