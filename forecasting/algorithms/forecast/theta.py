"""The Theta method (Assimakopoulos & Nikolopoulos, 2000) as the M4 benchmark ran it.

The series is deseasonalised with a classical decomposition of the shortest season when the 90 %
autocorrelation test finds that season (multiplicative for positive series, additive otherwise).
The forecast is simple exponential smoothing (α picked from a grid by in-sample one-step error)
plus half the slope of the linear trend, then reseasonalised.
"""

from __future__ import annotations

import numpy as np

from .prepare import Seasons

ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0)
SEASONALITY_Z = 1.645


def has_season(x: np.ndarray, period: int) -> bool:
    n = len(x)
    if period <= 1 or n < 3 * period:
        return False
    centred = x - x.mean()
    denominator = float(np.dot(centred, centred))
    if denominator == 0:
        return False
    r = np.array([np.dot(centred[k:], centred[: n - k]) for k in range(1, period + 1)]) / denominator
    limit = SEASONALITY_Z * np.sqrt((1 + 2 * np.sum(r[:-1] ** 2)) / n)
    return bool(abs(r[-1]) > limit)


def decomposition_indices(x: np.ndarray, period: int, multiplicative: bool) -> np.ndarray:
    """Seasonal index of each phase from a classical decomposition (centred moving average trend)."""
    n = len(x)
    weights = np.r_[0.5, np.ones(period - 1), 0.5] / period if period % 2 == 0 else np.ones(period) / period
    half = len(weights) // 2
    trend = np.full(n, np.nan)
    trend[half : n - half] = np.convolve(x, weights, mode="valid")
    detrended = x / trend if multiplicative else x - trend
    padded = np.full(-(-n // period) * period, np.nan)
    padded[:n] = detrended
    figure = np.nanmean(padded.reshape(-1, period), axis=0)
    return figure / figure.mean() if multiplicative else figure - figure.mean()


def ses(x: np.ndarray, alpha: float) -> tuple[float, np.ndarray]:
    """Final level and the one-step-ahead fitted values (the first is x[0])."""
    # Imported here: scipy.signal takes seconds to import, and only forecasting workers need it
    # (the web process imports this module at start-up through the task definitions).
    from scipy.signal import lfilter

    levels, _ = lfilter([alpha], [1, -(1 - alpha)], x[1:], zi=[(1 - alpha) * x[0]])
    return float(levels[-1]), np.r_[x[0], x[0], levels[:-1]][: len(x)]


class Fitted:
    def __init__(self, level: float, slope: float, alpha: float, n: int, future_indices, multiplicative: bool) -> None:
        self.level, self.slope, self.alpha, self.n = level, slope, alpha, n
        self.future_indices = future_indices
        self.multiplicative = multiplicative

    def predict(self, h: int) -> np.ndarray:
        steps = np.arange(1, h + 1)
        a = self.alpha
        line = self.level + self.slope / 2 * ((steps - 1) + 1 / a - (1 - a) ** self.n / a)
        if self.future_indices is None:
            return line
        indices = np.resize(self.future_indices, h)
        return line * indices if self.multiplicative else line + indices


class Theta:
    name = "theta"

    def min_length(self, seasons: Seasons) -> int:
        return 4

    def fit(self, y: np.ndarray, seasons: Seasons) -> Fitted:
        multiplicative = bool(np.all(y > 0))
        future = None
        x = y
        if seasons and has_season(y, seasons[0]):
            period = seasons[0]
            figure = decomposition_indices(y, period, multiplicative)
            past = figure[np.arange(len(y)) % period]
            x = y / past if multiplicative else y - past
            future = figure[np.arange(len(y), len(y) + period) % period]
        best = None
        for alpha in ALPHAS:
            level, fitted = ses(x, alpha)
            error = float(np.mean((x - fitted) ** 2))
            if best is None or error < best[0]:
                best = (error, alpha, level)
        _, alpha, level = best
        slope = float(np.polyfit(np.arange(len(x)), x, 1)[0])
        return Fitted(level, slope, alpha, len(x), future, multiplicative)
