"""Model selection by rolling-origin backtest, and the forecast entry point.

Backtest: K = 5 windows (fewer when the history is short) of `step` = min(horizon, n // (K + 2))
points each, back to back and ending at the last point. Each candidate is fitted on the history
before each window and forecasts it; per window we compute MASE (scaled by that history's
seasonal naive error) and sMAPE, then average over windows. Each model's relative error is
r = MASE/MASE_ref + sMAPE/sMAPE_ref, where ref is seasonal naive (naive without a season), the
same relative measure M4's OWA uses. The winner is a combination of the models with the lowest r
under `RULE` (see `Rule`: how many of the best, combined how); forecast combinations of the best
few are more robust than the single best. The rule is a global tunable: `m4_forecast --cv` picks
it on training folds of series and reports held-out accuracy (docs/forecasting.md). The winner's
backtest scores come from the stored backtest forecasts of its members.

Too little data for one window: seasonal naive if one full cycle exists, naive otherwise, with
wide intervals (see intervals.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import registry
from .accuracy import naive_scale, smape
from .intervals import spread_from_errors, spread_without_backtest, with_intervals
from .prepare import Seasons, as_seasons, clean
from .types import Prediction, Selection

WINDOWS = 5


@dataclass(frozen=True)
class Rule:
    """How a backtest ranking becomes the forecast: the `top` best single models, combined by
    `how`: "inverse" (mean weighted by 1/r), "equal" (plain mean) or "median" (step-wise median)."""

    top: int = 3
    how: str = "inverse"

    @property
    def name(self) -> str:
        return f"top{self.top}-{self.how}"

    @classmethod
    def from_name(cls, name: str) -> Rule:
        top, _, how = name.partition("-")
        if not top.startswith("top") or how not in ("inverse", "equal", "median"):
            raise ValueError(f"unknown combination rule {name!r}")
        return cls(int(top[3:]), how)


# The grid `m4_forecast --cv` chooses from (a median of two is their mean, one model needs no weights).
RULES: tuple[Rule, ...] = (
    Rule(1),
    *(Rule(k, how) for k in (2, 3, 4, 5) for how in ("inverse", "equal")),
    *(Rule(k, "median") for k in (3, 4, 5)),
)
RULE = Rule(3, "inverse")


@dataclass
class Backtest:
    step: int
    actuals: np.ndarray  # (windows, step)
    scales: np.ndarray  # (windows,)
    paths: dict[str, np.ndarray]  # name -> (windows, step)

    @property
    def windows(self) -> int:
        return len(self.actuals)

    def scores(self, name: str) -> dict[str, float]:
        path = self.paths[name]
        errors = np.abs(self.actuals - path).mean(axis=1) / self.scales
        smapes = [smape(a, p) for a, p in zip(self.actuals, path, strict=True)]
        return {"mase": float(np.mean(errors)), "smape": float(np.mean(smapes))}


def layout(n: int, horizon: int, minimum: int) -> tuple[int, int]:
    """(windows, step): how many back-to-back windows of `step` points leave ≥ minimum points to fit."""
    step = max(1, min(horizon, n // (WINDOWS + 2)))
    windows = min(WINDOWS, max(0, (n - minimum) // step))
    return windows, step


def run_backtest(y: np.ndarray, seasons: Seasons, horizon: int, names: Sequence[str]) -> Backtest | None:
    floor = registry.min_length("snaive", seasons) if seasons else 2
    windows, step = layout(len(y), horizon, floor)
    if windows == 0:
        return None
    origins = [len(y) - (windows - i) * step for i in range(windows)]
    eligible = [name for name in names if registry.min_length(name, seasons) <= origins[0]]
    actuals = np.array([y[o : o + step] for o in origins])
    lag = seasons[0] if seasons else 1
    scales = np.array([naive_scale(y[:o], lag) for o in origins])
    fallback = np.array([np.mean(np.abs(y[:o])) for o in origins])
    scales = np.where(scales > 0, scales, np.where(fallback > 0, fallback, 1.0))
    paths = {}
    for name in eligible:
        paths[name] = np.array([registry.fit_predict(name, y[:o], seasons, step) for o in origins])
    return Backtest(step=step, actuals=actuals, scales=scales, paths=paths)


def relative(scores: dict[str, dict[str, float]], reference: str) -> dict[str, float]:
    ref = scores[reference]
    eps = 1e-12
    return {name: s["mase"] / max(ref["mase"], eps) + s["smape"] / max(ref["smape"], eps) for name, s in scores.items()}


def ranked(backtest: Backtest, candidates: Sequence[str]) -> tuple[list[str], dict, dict[str, float]]:
    """The single models by relative backtest error (best first), their scores and their r."""
    singles = [name for name in candidates if name in backtest.paths]
    scores = {name: backtest.scores(name) for name in singles}
    reference = "snaive" if "snaive" in scores else singles[0]
    ranking = relative(scores, reference)
    return sorted(singles, key=lambda name: (ranking[name], singles.index(name))), scores, ranking


def combined_name(order: list[str], ranking: dict[str, float], rule: Rule) -> str:
    """The model name `rule` makes of the ranked single models."""
    top = order[: rule.top]
    if len(top) == 1:
        return top[0]
    if rule.how == "median" and len(top) > 2:
        return registry.median_of(top)
    if rule.how == "inverse":
        return registry.combination({name: 1 / max(ranking[name], 1e-9) for name in top})
    return registry.combination(dict.fromkeys(top, 1.0))


def choose(
    backtest: Backtest, candidates: Sequence[str], rule: Rule | None = None
) -> tuple[str, dict[str, dict[str, float]]]:
    order, scores, ranking = ranked(backtest, candidates)
    best = combined_name(order, ranking, rule or RULE)
    if best not in scores:
        backtest.paths[best] = registry.combine(backtest.paths, best)
        scores[best] = backtest.scores(best)
    return best, scores


def fallback_model(n: int, seasons: Seasons) -> str:
    return "snaive" if seasons and n >= seasons[0] else "naive"


def select(
    y: np.ndarray | Sequence[float],
    *,
    horizon: int,
    season: int | Sequence[int] | None,
    candidates: Sequence[str] = registry.DEFAULT_CANDIDATES,
) -> Selection:
    """Pick the model for one series by rolling-origin backtest (see the module docstring)."""
    selection, _ = select_with_backtest(clean(y), horizon, as_seasons(season), candidates)
    return selection


def select_with_backtest(
    y: np.ndarray, horizon: int, seasons: Seasons, candidates: Sequence[str]
) -> tuple[Selection, Backtest | None]:
    unknown = [name for name in candidates if not registry.known(name)]
    if unknown:
        raise ValueError(f"unknown models: {unknown}")
    if "prophet" in candidates and not registry.prophet_model.available():
        candidates = [name for name in candidates if name != "prophet"]
    backtest = run_backtest(y, seasons, horizon, candidates)
    if backtest is None or not backtest.paths:
        return Selection(best=fallback_model(len(y), seasons)), None
    best, scores = choose(backtest, candidates)
    return Selection(best=best, scores=scores, windows=backtest.windows), backtest


def forecast(
    y: np.ndarray | Sequence[float],
    *,
    horizon: int,
    season: int | Sequence[int] | None,
    model: str | None = None,
    candidates: Sequence[str] = registry.DEFAULT_CANDIDATES,
) -> Prediction:
    """Forecast `horizon` steps with `model` (a name from `select`), or select one first.

    A stored model that the current history is too short for is replaced by a new selection.
    """
    y = clean(y)
    seasons = as_seasons(season)
    if model is not None and not registry.known(model):
        raise ValueError(f"unknown model {model!r}")
    if model is None or registry.min_length(model, seasons) > len(y):
        selection, backtest = select_with_backtest(y, horizon, seasons, candidates)
        model = selection.best
    else:
        backtest = run_backtest(y, seasons, horizon, registry.members(model))
        parts = registry.members(model)
        if backtest is not None and len(parts) > 1 and all(m in backtest.paths for m in parts):
            backtest.paths[model] = registry.combine(backtest.paths, model)
    mean = registry.fit_predict(model, y, seasons, horizon)
    if backtest is not None and model in backtest.paths:
        sigma = spread_from_errors(backtest.actuals - backtest.paths[model], horizon)
    else:
        sigma = spread_without_backtest(y, horizon)
    return with_intervals(mean, sigma, model)
