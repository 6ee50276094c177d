"""Every tunable of the per-run analysis, with its unit in its name. Defaults are documented in
docs/analysis.md; changing a default means bumping :data:`ANALYSIS_VERSION` (cached results are keyed
by it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Final

__all__ = ["ANALYSIS_VERSION", "AnalysisConfig"]

#: bump when the numbers a run analysis produces change; invalidates the store cache.
ANALYSIS_VERSION: Final[int] = 4
# 2: record_gap / no_speed_term flags and messages (issue 13)
# 3: parametric (fast + slow wander) residual covariance, smoothed speed regressor, values at the
#    reference speed evaluated at the reference time (minute 10), degenerate inputs refused (issue 13)
# 4: vertical ratio with a speed term modelled as VR x speed (MetricModel.scale, issue 13)


@dataclass(frozen=True, slots=True)
class AnalysisConfig:
    """Parameters of the clean-segment rules, the context flags and the models."""

    # --- clean running segments
    stop_speed_m_s: float = 0.5
    stop_cadence_spm: float = 60.0
    walk_speed_m_s: float = 1.5
    walk_cadence_spm: float = 140.0
    walk_stance_time_s: float = 0.42
    gap_s: float = 5.0
    settle_s: float = 10.0
    warmup_s: float = 120.0
    max_speed_m_s: float = 10.0
    max_accel_m_s2: float = 4.0
    spike_dilate_s: float = 2.0
    # --- smoothing
    speed_smooth_s: float = 15.0
    grade_window_s: float = 20.0
    heading_window_s: float = 6.0
    # --- context
    speed_change_m_s2: float = 0.1
    speed_change_pad_s: float = 10.0
    uphill_grade: float = 0.03
    steep_grade: float = 0.10
    turn_rate_deg_s: float = 3.0
    sharp_turn_deg_s: float = 25.0
    min_context_s: float = 60.0
    intervals_cv: float = 0.12
    # --- models
    min_model_s: float = 300.0
    min_model_samples: int = 60
    min_speed_sd_m_s: float = 0.05
    min_grade_sd: float = 0.005
    min_lat_acc_sd_m_s2: float = 0.05
    confidence: float = 0.95
    hac_prewhiten: bool = True  # only for interval_method "hac"
    interval_method: str = "parametric"  # "parametric" (analysis/_noise_cov.py) or "hac" (the former)
    speed_instrument_window_s: float = 100.0  # the speed instrument: mean over this centred window...
    speed_instrument_gap_s: float = 40.0  # ... minus this centred neighbourhood (GPS error independent)
    min_instrument_corr: float = 0.5  # a speed term needs the instrument to track the true speed
    reference_time_s: float = 600.0  # "at the reference speed" is evaluated at this drift-clock time
    min_drift_span_s: float = 1200.0  # a drift term needs this modelled time span (wander: minutes)
    drift_clock: str = "elapsed"  # "elapsed" (wall clock), "timer" (pauses excluded) or "running"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
