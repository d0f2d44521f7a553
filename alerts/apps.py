from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self) -> None:
        from alerts import receivers, tasks  # noqa: F401  evaluates rules when samples arrive; registers tasks
        from alerts.evaluators import registry
        from alerts.evaluators.absence import AbsenceEvaluator
        from alerts.evaluators.anomaly import AnomalyEvaluator
        from alerts.evaluators.forecast_breach import ForecastBreachEvaluator
        from alerts.evaluators.threshold import ThresholdEvaluator

        registry.register(ThresholdEvaluator())
        registry.register(AbsenceEvaluator())
        registry.register(AnomalyEvaluator())
        registry.register(ForecastBreachEvaluator())

        from alerts.slo import promql_series

        promql_series.register()  # hiveops_slo_* series on /prometheus
