"""Every combination rule's forecast of one series from one backtest (for cross-validation).

The rolling-origin backtest and the final fits of the single models are the costly part; the rules
of `selection.RULES` only rank and combine them. So the cross-validation of the rule
(`m4_forecast --cv`) runs each series once and gets every rule's forecast and intervals, exactly as
`forecast(..., rule=...)` would make them one rule at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import registry
from .intervals import spread_from_errors, spread_without_backtest, with_intervals
from .prepare import as_seasons, clean
from .selection import RULES, Rule, combined_name, fallback_model, ranked, run_backtest
from .types import Prediction


def forecast_variants(
    y: np.ndarray | Sequence[float],
    *,
    horizon: int,
    season: int | Sequence[int] | None,
    candidates: Sequence[str] = registry.DEFAULT_CANDIDATES,
    rules: Sequence[Rule] = RULES,
) -> dict[str, Prediction]:
    """{rule name: the forecast that rule selects} for one series."""
    y = clean(y)
    seasons = as_seasons(season)
    backtest = run_backtest(y, seasons, horizon, candidates)
    if backtest is None or not backtest.paths:
        name = fallback_model(len(y), seasons)
        mean = registry.fit_predict(name, y, seasons, horizon)
        alone = with_intervals(mean, spread_without_backtest(y, horizon), name)
        return {rule.name: alone for rule in rules}
    order, _, ranking = ranked(backtest, candidates)
    needed = {member for rule in rules for member in order[: rule.top]}
    fitted = {name: registry.MODELS[name].fit(y, seasons).predict(horizon) for name in needed}
    out = {}
    for rule in rules:
        name = combined_name(order, ranking, rule)
        if name not in backtest.paths:
            backtest.paths[name] = registry.combine(backtest.paths, name)
        sigma = spread_from_errors(backtest.actuals - backtest.paths[name], horizon)
        out[rule.name] = with_intervals(registry.combine(fitted, name), sigma, name)
    return out
