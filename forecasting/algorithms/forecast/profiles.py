"""Seasonal profile models: robust recent profiles of one or two seasons plus the recent level.

All work on log values when the series is strictly positive (multiplicative seasonality).

- `DailyProfile` ("profile"): the shape of the shortest season as an exponentially weighted mean
  of the last 14 cycles' deviations from their own mean (recent cycles count more), added to the
  mean of the last cycle.
- `DailyWeeklyProfile` ("daily_weekly"): the same, plus half of the weekly shape left in the
  last 4 weeks once the daily shape is removed (shrunk by ½ because it is estimated from few
  weeks).
- `TrendProfile` ("profile_trend"): the daily shape plus a damped linear trend (φ = 0.98 per
  step) fitted to the means of the last 7 cycles.
- `WeeklyProfile` ("weekly_profile"): the median shape of the last 4 weeks (longest season), added
  to the deseasonalised mean of the last daily cycle.
"""

from __future__ import annotations

import numpy as np

from .prepare import LogScale, Seasons

CYCLES = 14
DECAY = 0.45  # chosen by `m4_forecast --cv 5` on every fold (range 0.3-0.9; 0.75 before)
WEEKS = 4
WEEKLY_SHRINK = 0.5
TREND_CYCLES = 7
DAMPING = 0.98


class Profiled:
    def __init__(self, scale: LogScale, pattern: np.ndarray) -> None:
        self.scale = scale
        self.pattern = pattern

    def predict(self, h: int) -> np.ndarray:
        return self.scale.back(np.resize(self.pattern, h))


def cycles(z: np.ndarray, period: int, most: int) -> np.ndarray:
    """The last complete cycles (aligned to the end of z) as rows, oldest first."""
    k = min(most, len(z) // period)
    return z[len(z) - k * period :].reshape(k, period)


def weighted_shape(z: np.ndarray, period: int, most: int | None = None, decay: float | None = None) -> np.ndarray:
    """Exponentially weighted mean deviation of each phase from its cycle's mean (sums to 0).
    Defaults read CYCLES and DECAY at call time (the cross-validation varies them)."""
    most = CYCLES if most is None else most
    decay = DECAY if decay is None else decay
    rows = cycles(z, period, most)
    deviations = rows - rows.mean(axis=1, keepdims=True)
    weights = decay ** np.arange(len(rows))[::-1]
    shape = weights @ deviations / weights.sum()
    return shape - shape.mean()


def behind(shape: np.ndarray, n: int) -> np.ndarray:
    """The shape repeated over n past points, aligned so that its phase 0 follows the last point."""
    return shape[(np.arange(n) - n) % len(shape)]


class DailyProfile:
    name = "profile"

    def min_length(self, seasons: Seasons) -> int:
        return 2 * seasons[0] if seasons else 10**12

    def fit(self, y: np.ndarray, seasons: Seasons) -> Profiled:
        scale = LogScale(y)
        z = scale.forward(y)
        period = seasons[0]
        shape = weighted_shape(z, period)
        return Profiled(scale, z[-period:].mean() + shape)


class Trended(Profiled):
    def __init__(self, scale: LogScale, pattern: np.ndarray, slope: float) -> None:
        super().__init__(scale, pattern)
        self.slope = slope

    def predict(self, h: int) -> np.ndarray:
        drift = self.slope * np.cumsum(DAMPING ** np.arange(1, h + 1))
        return self.scale.back(np.resize(self.pattern, h) + drift)


class TrendProfile:
    name = "profile_trend"

    def min_length(self, seasons: Seasons) -> int:
        return TREND_CYCLES * seasons[0] if seasons else 10**12

    def fit(self, y: np.ndarray, seasons: Seasons) -> Trended:
        scale = LogScale(y)
        z = scale.forward(y)
        period = seasons[0]
        means = cycles(z, period, TREND_CYCLES).mean(axis=1)
        slope = float(np.polyfit(np.arange(len(means)), means, 1)[0]) / period
        level = means[-1] + slope * period / 2  # the last cycle's mean sits half a cycle back
        return Trended(scale, level + weighted_shape(z, period), slope)


class DailyWeeklyProfile:
    name = "daily_weekly"

    def min_length(self, seasons: Seasons) -> int:
        return 2 * seasons[-1] if len(seasons) > 1 else 10**12

    def fit(self, y: np.ndarray, seasons: Seasons) -> Profiled:
        scale = LogScale(y)
        z = scale.forward(y)
        day, week = seasons[0], seasons[-1]
        daily = weighted_shape(z, day)
        rest = z - behind(daily, len(z))
        weekly_rows = cycles(rest, week, WEEKS)
        weekly = (weekly_rows - weekly_rows.mean(axis=1, keepdims=True)).mean(axis=0)
        weekly = WEEKLY_SHRINK * (weekly - weekly.mean())
        rest = rest - behind(weekly, len(z))
        pattern = rest[-day:].mean() + np.resize(daily, week) + weekly
        return Profiled(scale, pattern)


class WeeklyProfile:
    name = "weekly_profile"

    def min_length(self, seasons: Seasons) -> int:
        return 2 * seasons[-1] if len(seasons) > 1 else 10**12

    def fit(self, y: np.ndarray, seasons: Seasons) -> Profiled:
        scale = LogScale(y)
        z = scale.forward(y)
        day, week = seasons[0], seasons[-1]
        rows = cycles(z, week, WEEKS)
        shape = np.median(rows - rows.mean(axis=1, keepdims=True), axis=0)
        shape = shape - shape.mean()
        level = (z - behind(shape, len(z)))[-day:].mean()
        return Profiled(scale, level + shape)
