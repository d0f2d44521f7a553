"""Prophet (Taylor & Letham, 2018) with one Fourier seasonality per seasonal period.

Time is counted in steps: the series gets a synthetic daily index, and each period of `seasons`
becomes a custom seasonality of that many "days", so any sampling step works the same way.
Prophet's own intervals are switched off (`uncertainty_samples=0`); the forecaster's empirical
intervals apply to it as to every other model. Prophet is optional: without the package the
model is simply not a candidate.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .prepare import Seasons

FOURIER_ORDER = 10
ORIGIN = pd.Timestamp("2000-01-01")


def available() -> bool:
    try:
        import prophet  # noqa: F401
    except ImportError:
        return False
    return True


def quiet() -> None:
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.ERROR)


class Fitted:
    def __init__(self, model, n: int) -> None:
        self.model = model
        self.n = n

    def predict(self, h: int) -> np.ndarray:
        future = pd.DataFrame({"ds": ORIGIN + pd.to_timedelta(np.arange(self.n, self.n + h), unit="D")})
        return self.model.predict(future)["yhat"].to_numpy()


class ProphetModel:
    name = "prophet"

    def min_length(self, seasons: Seasons) -> int:
        return 2 * seasons[0] if seasons else 10

    def fit(self, y: np.ndarray, seasons: Seasons) -> Fitted:
        quiet()
        from prophet import Prophet

        model = Prophet(
            yearly_seasonality=False,
            weekly_seasonality=False,
            daily_seasonality=False,
            uncertainty_samples=0,
        )
        for period in seasons:
            if len(y) >= 2 * period:
                model.add_seasonality(name=f"p{period}", period=period, fourier_order=min(FOURIER_ORDER, period // 2))
        frame = pd.DataFrame({"ds": ORIGIN + pd.to_timedelta(np.arange(len(y)), unit="D"), "y": y})
        model.fit(frame)
        return Fitted(model, len(y))
