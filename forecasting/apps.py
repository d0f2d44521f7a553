from __future__ import annotations

from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "forecasting"

    def ready(self) -> None:
        from forecasting import promql_series, receivers  # noqa: F401  receivers score points when samples arrive

        promql_series.register()  # hiveops_forecast, hiveops_anomaly_score, hiveops_expected on /prometheus
