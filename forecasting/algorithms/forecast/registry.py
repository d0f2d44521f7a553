"""Every model by name, the default candidates, and combinations named "mean(a+b+c)"."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from . import prophet_model
from .baseline import Drift, Naive, SeasonalNaive
from .prepare import Seasons
from .profiles import DailyProfile, DailyWeeklyProfile, WeeklyProfile
from .theta import Theta


class Fitted(Protocol):
    def predict(self, h: int) -> np.ndarray: ...


class Model(Protocol):
    name: str

    def min_length(self, seasons: Seasons) -> int: ...

    def fit(self, y: np.ndarray, seasons: Seasons) -> Fitted: ...


MODELS: dict[str, Model] = {
    model.name: model
    for model in (
        Naive(),
        Drift(),
        SeasonalNaive(),
        SeasonalNaive(weekly=True),
        DailyProfile(),
        DailyWeeklyProfile(),
        WeeklyProfile(),
        Theta(),
        prophet_model.ProphetModel(),
    )
}

# Prophet is left out by default: on M4 Hourly it is worse than seasonal naive and costs ~100x
# more per fit (see docs in bench/forecast.py); pass candidates=(..., "prophet") to include it.
DEFAULT_CANDIDATES: tuple[str, ...] = (
    "snaive",
    "snaive_week",
    "profile",
    "daily_weekly",
    "weekly_profile",
    "theta",
)


def combination(names: list[str] | tuple[str, ...]) -> str:
    """The canonical name of the mean of `names` (members in registry order)."""
    order = list(MODELS)
    return "mean(" + "+".join(sorted(names, key=order.index)) + ")"


def members(name: str) -> list[str]:
    """The single models behind a name: itself, or the members of "mean(a+b)"."""
    if name.startswith("mean(") and name.endswith(")"):
        return name[5:-1].split("+")
    return [name]


def known(name: str) -> bool:
    return all(member in MODELS for member in members(name))


def min_length(name: str, seasons: Seasons) -> int:
    return max(MODELS[member].min_length(seasons) for member in members(name))


def fit_predict(name: str, y: np.ndarray, seasons: Seasons, h: int) -> np.ndarray:
    """Point forecast of a single model or the mean of a combination's members."""
    paths = [MODELS[member].fit(y, seasons).predict(h) for member in members(name)]
    return np.mean(paths, axis=0) if len(paths) > 1 else paths[0]
