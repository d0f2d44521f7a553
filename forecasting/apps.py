from __future__ import annotations

from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "forecasting"

    def ready(self) -> None:
        # Django loads models only after every app's module: receivers and gauges read them.
        from core.observability.collector import scrape_source_register
        from forecasting import receivers  # noqa: F401  scores points when samples arrive
        from forecasting.observability import lag_gauges

        scrape_source_register("database", lag_gauges)
