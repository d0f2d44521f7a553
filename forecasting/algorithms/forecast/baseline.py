"""Naive, drift and seasonal naive: the fallbacks and the reference every other model must beat."""

from __future__ import annotations

import numpy as np

from .prepare import Seasons


class Constant:
    """A fitted model whose forecast is a fixed repeating pattern plus a straight line."""

    def __init__(self, pattern: np.ndarray, slope: float = 0.0) -> None:
        self.pattern = pattern
        self.slope = slope

    def predict(self, h: int) -> np.ndarray:
        return np.resize(self.pattern, h) + self.slope * np.arange(1, h + 1)


class Naive:
    name = "naive"

    def min_length(self, seasons: Seasons) -> int:
        return 1

    def fit(self, y: np.ndarray, seasons: Seasons) -> Constant:
        return Constant(y[-1:])


class Drift:
    """The last value plus the average step of the whole history."""

    name = "drift"

    def min_length(self, seasons: Seasons) -> int:
        return 2

    def fit(self, y: np.ndarray, seasons: Seasons) -> Constant:
        return Constant(y[-1:], (y[-1] - y[0]) / (len(y) - 1))


class SeasonalNaive:
    """Repeats the last cycle of the shortest season (`weekly=True`: of the longest one)."""

    def __init__(self, weekly: bool = False) -> None:
        self.weekly = weekly
        self.name = "snaive_week" if weekly else "snaive"

    def period(self, seasons: Seasons) -> int | None:
        if not seasons or (self.weekly and len(seasons) < 2):
            return None
        return seasons[-1] if self.weekly else seasons[0]

    def min_length(self, seasons: Seasons) -> int:
        period = self.period(seasons)
        return period if period else 10**12

    def fit(self, y: np.ndarray, seasons: Seasons) -> Constant:
        return Constant(y[-self.period(seasons) :])
