"""The four rule kinds alerts ships with, registered by AlertsConfig.ready()."""

from __future__ import annotations

from alerts.evaluators import registry
from alerts.evaluators.absence import AbsenceEvaluator
from alerts.evaluators.anomaly import AnomalyEvaluator
from alerts.evaluators.forecast_breach import ForecastBreachEvaluator
from alerts.evaluators.threshold import ThresholdEvaluator


def register() -> None:
    for evaluator in (ThresholdEvaluator(), AbsenceEvaluator(), AnomalyEvaluator(), ForecastBreachEvaluator()):
        registry.register(evaluator)
