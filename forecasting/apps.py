from __future__ import annotations

from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "forecasting"

    def ready(self) -> None:
        from forecasting import receivers  # noqa: F401  scores points when samples arrive
