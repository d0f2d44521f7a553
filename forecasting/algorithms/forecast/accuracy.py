"""Accuracy measures used by model selection (the M4 definitions, per series)."""

from __future__ import annotations

import numpy as np


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE on 0–200: mean of 200·|y − ŷ| / (|y| + |ŷ|); steps where both are 0 count as 0."""
    actual, predicted = np.asarray(actual, float), np.asarray(predicted, float)
    denominator = np.abs(actual) + np.abs(predicted)
    terms = np.divide(200 * np.abs(actual - predicted), denominator, out=np.zeros_like(actual), where=denominator > 0)
    return float(terms.mean())


def naive_scale(insample: np.ndarray, season: int = 1) -> float:
    """In-sample mean absolute (seasonal) difference, the MASE denominator (lag 1 if the history is short)."""
    insample = np.asarray(insample, float)
    lag = season if len(insample) > season else 1
    if len(insample) <= lag:
        return 0.0
    return float(np.mean(np.abs(insample[lag:] - insample[:-lag])))


def mase(actual: np.ndarray, predicted: np.ndarray, insample: np.ndarray, season: int = 1) -> float:
    """Mean absolute error scaled by the in-sample seasonal naive error (inf when that is 0 and the error is not)."""
    error = float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(predicted, float))))
    scale = naive_scale(insample, season)
    if scale > 0:
        return error / scale
    return 0.0 if error == 0 else float("inf")
