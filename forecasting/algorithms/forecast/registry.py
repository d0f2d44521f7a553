"""Every model by name, the default candidates, and combinations.

A combination is named "mean(a*50+b*30+c*20)": the weighted mean of models a, b, c with weights in
percent ("mean(a+b)" means equal weights), or "median(a+b+c)": the step-wise median of the members
(robust to one member going astray). The name alone reproduces the forecast, so it is what gets
stored as a series' winner (at most ~60 characters with the default candidates).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from . import prophet_model
from .baseline import Drift, Naive, SeasonalNaive
from .prepare import Seasons
from .profiles import DailyProfile, DailyWeeklyProfile, TrendProfile, WeeklyProfile
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
        TrendProfile(),
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
    "profile_trend",
    "daily_weekly",
    "weekly_profile",
    "theta",
)


def combination(weights: dict[str, float]) -> str:
    """The canonical name of the weighted mean of the models in `weights` (members in registry order)."""
    order = list(MODELS)
    total = sum(weights.values())
    names = sorted(weights, key=order.index)
    return "mean(" + "+".join(f"{name}*{round(100 * weights[name] / total)}" for name in names) + ")"


def median_of(names: list[str]) -> str:
    """The canonical name of the step-wise median of `names` (members in registry order)."""
    order = list(MODELS)
    return "median(" + "+".join(sorted(names, key=order.index)) + ")"


def parse(name: str) -> dict[str, float]:
    """{model: weight} behind a name: {name: 1} for a single model (equal weights for a median)."""
    head, _, rest = name.partition("(")
    if head not in ("mean", "median") or not rest.endswith(")"):
        return {name: 1.0}
    weights = {}
    for part in rest[:-1].split("+"):
        member, _, weight = part.partition("*")
        weights[member] = float(weight) if weight else 1.0
    return weights


def members(name: str) -> list[str]:
    """The single models behind a name: itself, or the members of a combination."""
    return list(parse(name))


def known(name: str) -> bool:
    try:
        return all(member in MODELS for member in members(name))
    except ValueError:
        return False


def min_length(name: str, seasons: Seasons) -> int:
    return max(MODELS[member].min_length(seasons) for member in members(name))


def combine(paths: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The combination `name` of already computed forecasts `paths` (keyed by member)."""
    weights = parse(name)
    if name.startswith("median("):
        return np.median(np.stack([paths[m] for m in weights]), axis=0)
    total = sum(weights.values())
    return sum(weights[m] / total * paths[m] for m in weights)


def fit_predict(name: str, y: np.ndarray, seasons: Seasons, h: int) -> np.ndarray:
    """Point forecast of a single model or of a combination."""
    paths = {member: MODELS[member].fit(y, seasons).predict(h) for member in members(name)}
    return combine(paths, name)
