from __future__ import annotations

from django.apps import AppConfig

from core.observability.collector import scrape_source_register


class ForecastingConfig(AppConfig):
    name = "forecasting"

    def ready(self) -> None:
        from forecasting import observability, promql_series, receivers, tasks  # noqa: F401  Django: they read models

        scrape_source_register("database", observability.lag_gauges)  # detection and forecast lag on /metrics
        scrape_source_register("detection-backlog", observability.backlog_gauges)  # Redis
        promql_series.register()  # hiveops_forecast, hiveops_anomaly_score, hiveops_expected on /prometheus
