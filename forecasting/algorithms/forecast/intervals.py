"""Prediction intervals from backtest errors.

Choice: empirical, model-agnostic intervals. The rolling-origin backtest gives, for each step
ahead j, the errors e_ij = actual − forecast of the same model over the last K windows. Their
root mean square, pooled over neighbouring steps (±max(1, h/16)) and forced not to shrink with the
horizon, is the spread σ_j; the intervals are mean ± z·σ_j with z = 1.2816 (80 %) and 1.96 (95 %),
i.e. errors treated as centred normal. Steps beyond the backtest window grow like √j (random
walk). Fewer than 3 windows widen σ by 25 % (the estimate itself is uncertain). With no window at
all (too short a history) σ_j is the RMS of the in-sample one-step changes times √j, widened by 50 %.
"""

from __future__ import annotations

import numpy as np

from .types import Prediction

Z80 = 1.2815515655446004
Z95 = 1.959963984540054
FEW_WINDOWS = 3


def spread_from_errors(errors: np.ndarray, horizon: int) -> np.ndarray:
    """σ for steps 1..horizon from backtest errors shaped (windows, steps)."""
    windows, steps = errors.shape
    squares = np.mean(errors**2, axis=0)
    width = max(1, steps // 16)
    cumulative = np.r_[0.0, np.cumsum(squares)]
    lo = np.clip(np.arange(steps) - width, 0, steps)
    hi = np.clip(np.arange(steps) + width + 1, 0, steps)
    sigma = np.maximum.accumulate(np.sqrt((cumulative[hi] - cumulative[lo]) / (hi - lo)))
    if windows < FEW_WINDOWS:
        sigma = sigma * 1.25
    if horizon > steps:
        extra = sigma[-1] * np.sqrt(np.arange(steps + 1, horizon + 1) / steps)
        sigma = np.r_[sigma, extra]
    return sigma[:horizon]


def spread_without_backtest(y: np.ndarray, horizon: int) -> np.ndarray:
    changes = np.diff(y)
    step = float(np.sqrt(np.mean(changes**2))) if len(changes) else abs(float(y[-1])) * 0.1
    return 1.5 * step * np.sqrt(np.arange(1, horizon + 1))


def with_intervals(mean: np.ndarray, sigma: np.ndarray, model: str) -> Prediction:
    return Prediction(
        mean=mean,
        lo80=mean - Z80 * sigma,
        hi80=mean + Z80 * sigma,
        lo95=mean - Z95 * sigma,
        hi95=mean + Z95 * sigma,
        model=model,
    )
