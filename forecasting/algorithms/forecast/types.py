"""Result types of the forecaster."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Prediction:
    """Point forecast and central 80 % / 95 % prediction intervals, one value per step ahead."""

    mean: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray
    model: str = ""

    def as_dict(self) -> dict[str, list[float]]:
        return {k: [float(v) for v in getattr(self, k)] for k in ("mean", "lo80", "hi80", "lo95", "hi95")}


@dataclass(frozen=True)
class Selection:
    """The winner of a rolling-origin backtest and every candidate's scores (mean MASE and sMAPE)."""

    best: str
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    windows: int = 0
