"""Capacity maths: change points, growth fits with bootstrap uncertainty, time to exhaustion,
right-sizing with cost, scenarios and the risk order of the fleet. Pure numpy, no Django.

The code lives in `capacity/analysis/` (one module per concern, see its `__init__`); this
module is the one name the rest of the app imports it by.
"""

from capacity.analysis.changes import (
    ALONE_DAYS,
    JUMP_SIGMAS,
    MIN_JUMP,
    POOL_SEGMENTS,
    WINDOW,
    change_points,
    daily_profile,
    despike,
    periodic_resets,
    robust_sd,
    segments_for_fit,
)
from capacity.analysis.exhaustion import (
    crossing_times,
    describe_eta,
    exhaustion,
    quantile,
    range_confidence,
    span,
)
from capacity.analysis.growth import MIN_POINTS, PRIOR, SAMPLES, SETTINGS, fit_growth, history_shortfall
from capacity.analysis.regression import FINE_DAYS, future_grid
from capacity.analysis.sizing import (
    allocation_scale,
    confidence_label,
    confidence_of,
    forecast_peak,
    recommend,
    risk_score,
    round_up,
    scenario_factor,
    utilization_p95,
)
from capacity.analysis.types import (
    DAY,
    MONTH_DAYS,
    Change,
    Exhaustion,
    Fit,
    Recommendation,
    Scenario,
    Settings,
    Sizing,
)

__all__ = [
    "ALONE_DAYS",
    "DAY",
    "FINE_DAYS",
    "JUMP_SIGMAS",
    "MIN_JUMP",
    "MIN_POINTS",
    "MONTH_DAYS",
    "POOL_SEGMENTS",
    "PRIOR",
    "SAMPLES",
    "SETTINGS",
    "WINDOW",
    "Change",
    "Exhaustion",
    "Fit",
    "Recommendation",
    "Scenario",
    "Settings",
    "Sizing",
    "allocation_scale",
    "change_points",
    "confidence_label",
    "confidence_of",
    "crossing_times",
    "daily_profile",
    "describe_eta",
    "despike",
    "exhaustion",
    "fit_growth",
    "forecast_peak",
    "future_grid",
    "history_shortfall",
    "periodic_resets",
    "quantile",
    "range_confidence",
    "recommend",
    "risk_score",
    "robust_sd",
    "round_up",
    "scenario_factor",
    "segments_for_fit",
    "span",
    "utilization_p95",
]
