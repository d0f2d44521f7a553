"""Rule kind "forecast_breach": fires ahead of a breach — when the series' forecast gives at
least `probability` that it passes the rule's critical threshold within `horizon_minutes` —
and resolves when the risk passes. Reads forecasting through its selectors."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError

from alerts.evaluation import CRITICAL, OK, WARNING, breaches
from forecasting.selectors import breach_risk, forecasts_for
from metrics.selectors import series_latest

MAX_HORIZON_MINUTES = 24 * 60
RECOVER_AT = 0.75  # a firing risk resolves once the probability falls below 3/4 of the level


def settings_of(rule) -> tuple[int, float, float | None]:
    params = rule.params or {}
    return params.get("horizon_minutes", 60), params.get("probability", 0.8), params.get("warning_probability")


class ForecastBreachEvaluator:
    kind = "forecast_breach"
    label = "forecast breach (predictive)"

    def __init__(self) -> None:
        self._risks: dict[int, object] = {}
        self._latest: dict[int, float] = {}

    def validate(self, rule) -> None:
        horizon, probability, warning = settings_of(rule)
        if rule.critical_threshold is None:
            raise ValidationError({"critical_threshold": "set the value the forecast must not pass"})
        if not isinstance(horizon, int) or isinstance(horizon, bool) or not 5 <= horizon <= MAX_HORIZON_MINUTES:
            raise ValidationError({"params": f"horizon_minutes must be a whole number from 5 to {MAX_HORIZON_MINUTES}"})
        for name, p in (("probability", probability), ("warning_probability", warning)):
            if p is not None and (not isinstance(p, int | float) or not 0 < p < 1):
                raise ValidationError({"params": f"{name} must be a number between 0 and 1"})
        if warning is not None and warning >= probability:
            raise ValidationError({"params": "warning_probability must be below probability"})

    def observe(self, rule, series, now: datetime) -> dict[int, float | None]:
        horizon, probability, _ = settings_of(rule)
        forecasts = forecasts_for(series_ids=[s.id for s in series])
        latest = series_latest(series_ids=list(forecasts))
        fresh_after = now - td(minutes=2 * settings.HIVEOPS_FORECAST_REFRESH_MINUTES + 5)
        values: dict[int, float | None] = {}
        for s in series:
            forecast = forecasts.get(s.id)
            if forecast is None or forecast.generated_at < fresh_after:
                values[s.id] = None  # no usable forecast: hold the current state
                continue
            current = latest.get(s.id)
            risk = breach_risk(
                forecast=forecast,
                comparator=rule.comparator,
                threshold=rule.critical_threshold,
                now=now,
                horizon=td(minutes=horizon),
                level=probability,
                latest=current[1] if current else None,
            )
            self._risks[s.id] = risk
            if current is not None:
                self._latest[s.id] = current[1]
            values[s.id] = risk.probability if risk else None
        return values

    def level(self, rule, value: float, current: str, series=None) -> str:
        _, probability, warning = settings_of(rule)
        if value >= probability or (current == CRITICAL and value >= probability * RECOVER_AT):
            return CRITICAL
        if warning is not None and (value >= warning or (current == WARNING and value >= warning * RECOVER_AT)):
            return WARNING
        return OK

    def replay_values(self, rule, series, times: np.ndarray) -> list[float | None]:
        return [None] * len(times)  # past forecasts are not kept, so there is nothing to replay

    def higher_is_worse(self, rule) -> bool:
        return True

    def describe(self, rule) -> str:
        horizon, probability, _ = settings_of(rule)
        sign = dict(rule.Comparator.choices)[rule.comparator]
        return (
            f"forecast of {rule.metric} {sign} {rule.critical_threshold:g} within {horizon} min"
            f" with probability ≥ {probability:g}"
        )

    def explain(self, rule, series, value: float | None, now: datetime) -> dict:
        risk = self._risks.get(series.id) if series is not None else None
        if risk is None or value is None:
            return {}
        verb = "exceed" if rule.comparator in ("gt", "gte") else "fall below"
        latest = self._latest.get(series.id)
        if latest is not None and breaches(latest, rule.comparator, rule.critical_threshold):
            side = "above" if rule.comparator in ("gt", "gte") else "below"
            return {
                "summary": f"{series} is {side} {rule.critical_threshold:g} now (value {latest:.4g}): breached",
                "annotations": {"breach_probability": f"{value:.3f}", "breached": "true", "forecast_model": risk.model},
            }
        if risk.eta is not None:
            minutes = max(0, round((risk.eta - now).total_seconds() / 60))
            when = f"in about {minutes} min"
        else:
            when = f"within {settings_of(rule)[0]} min"
        return {
            "summary": f"{series} will {verb} {rule.critical_threshold:g} {when} (probability {value:.2f})",
            "annotations": {
                "breach_probability": f"{value:.3f}",
                "breach_eta": risk.eta.isoformat() if risk.eta else "",
                "forecast_value": "" if risk.expected is None else f"{risk.expected:.6g}",
                "forecast_model": risk.model,
            },
        }
