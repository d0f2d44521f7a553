"""Rule kind "capacity": "will exhaust within N days". The rule's metric and matchers pick the
utilization series; every capacity resource on a matching series is checked, and the value is
the days until exhaustion at the chosen quantile of its latest analysis (the soonest resource
when several share a series). Reads capacity only through its selectors."""

from __future__ import annotations

import math
from datetime import datetime
from datetime import timedelta as td

import numpy as np
from django.core.exceptions import ValidationError

from alerts.evaluation import CRITICAL, OK, WARNING
from alerts.evaluators import registry
from capacity.selectors import analyses_for_series

MAX_DAYS = 365
QUANTILES = ("p10", "p50", "p90")
STALE_AFTER = td(hours=3)  # analyses run hourly; older ones are not trusted (the rule holds its state)
RECOVER = 1.2  # a firing rule resolves once the days are 20 % past the level


def settings_of(rule) -> tuple[float, float | None, str]:
    params = rule.params or {}
    return params.get("within_days", 14), params.get("warning_days"), params.get("quantile", "p50")


class CapacityEvaluator:
    kind = "capacity"
    label = "capacity (will exhaust within N days)"

    def __init__(self) -> None:
        self._analyses: dict[int, object] = {}

    def validate(self, rule) -> None:
        within, warning, quantile = settings_of(rule)
        for name, days in (("within_days", within), ("warning_days", warning)):
            if days is None and name == "warning_days":
                continue
            if not isinstance(days, int | float) or isinstance(days, bool) or not 0 < days <= MAX_DAYS:
                raise ValidationError({"params": f"{name} must be a number of days above 0 and at most {MAX_DAYS}"})
        if warning is not None and warning <= within:
            raise ValidationError({"params": "warning_days must be more than within_days"})
        if quantile not in QUANTILES:
            raise ValidationError({"params": f"quantile must be one of {', '.join(QUANTILES)}"})

    def observe(self, rule, series, now: datetime) -> dict[int, float | None]:
        _, _, quantile = settings_of(rule)
        found = analyses_for_series(series_ids=[s.id for s in series], fresh_after=now - STALE_AFTER)
        values: dict[int, float | None] = {}
        for s in series:
            analyses = found.get(s.id)
            if not analyses:
                values[s.id] = None  # no resource or no fresh analysis: hold the state
                continue
            soonest = min(analyses, key=lambda a: days_left(a, quantile, now))
            self._analyses[s.id] = soonest
            values[s.id] = days_left(soonest, quantile, now)
        return values

    def level(self, rule, value: float, current: str, series=None) -> str:
        within, warning, _ = settings_of(rule)
        if value <= within or (current == CRITICAL and value <= within * RECOVER):
            return CRITICAL
        if warning is not None and (value <= warning or (current == WARNING and value <= warning * RECOVER)):
            return WARNING
        return OK

    def replay_values(self, rule, series, times: np.ndarray) -> list[float | None]:
        return [None] * len(times)  # past analyses are not kept

    def higher_is_worse(self, rule) -> bool:
        return False

    def describe(self, rule) -> str:
        within, warning, quantile = settings_of(rule)
        extra = f" (warning within {warning:g})" if warning is not None else ""
        return f"{rule.metric} capacity exhausted within {within:g} days at {quantile}{extra}"

    def explain(self, rule, series, value: float | None, now: datetime) -> dict:
        analysis = self._analyses.get(series.id) if series is not None else None
        if analysis is None or value is None:
            return {}
        resource = analysis.resource
        when = "is at its limit now" if analysis.exhausted else f"will be full {analysis.eta}"
        return {
            "summary": f"{resource.name} ({resource.get_kind_display()}) {when}",
            "annotations": {
                "resource": str(resource.uid),
                "time_to_exhaustion_p10_days": fmt(analysis.days("p10")),
                "time_to_exhaustion_p50_days": fmt(analysis.days("p50")),
                "time_to_exhaustion_p90_days": fmt(analysis.days("p90")),
                "exhaustion_probability": f"{analysis.probability:.2f}",
                "limit": f"{resource.limit:g}",
                "recommendation": analysis.reason,
                "capacity_model": analysis.model,
            },
        }


def days_left(analysis, quantile: str, now: datetime) -> float:
    """Days from now until exhaustion at the quantile (inf: not within the horizon)."""
    if analysis.exhausted:
        return 0.0
    at = analysis.exhaust_at(quantile)
    return math.inf if at is None else max(0.0, (at - now).total_seconds() / 86400)


def fmt(days: float | None) -> str:
    return "" if days is None else f"{days:.2f}"


def register() -> None:
    """The rule kind "capacity" ("will exhaust within N days"), called by CapacityConfig.ready()."""
    registry.register(CapacityEvaluator())
