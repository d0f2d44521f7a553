"""The HiveOps forecaster: candidate models, rolling-origin selection, empirical intervals.

Pure numpy/pandas (Prophet optional); no Django. Entry points:

- `select(y, *, horizon, season, candidates=DEFAULT_CANDIDATES) -> Selection(best, scores, windows)`
- `forecast(y, *, horizon, season, model=None, candidates=...) -> Prediction(mean, lo80, hi80, lo95, hi95, model)`
- `mase(actual, predicted, insample, season)`, `smape(actual, predicted)`

`season` is a period in steps, a tuple of periods (e.g. (24, 168) for hourly data, (288, 2016)
for 5-minute data, 7 for daily data) or None.
"""

from __future__ import annotations

from .accuracy import mase, smape
from .registry import DEFAULT_CANDIDATES, MODELS, fit_predict
from .selection import forecast, select
from .types import Prediction, Selection

__all__ = [
    "DEFAULT_CANDIDATES",
    "MODELS",
    "Prediction",
    "Selection",
    "fit_predict",
    "forecast",
    "mase",
    "select",
    "smape",
]
