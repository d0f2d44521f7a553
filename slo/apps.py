from __future__ import annotations

from django.apps import AppConfig


class SloConfig(AppConfig):
    """SLOs, SLAs, burn-rate alerts and SLA reports, above alerts: it raises alerts through
    alerts' services and reads metrics' rollups."""

    name = "slo"
    verbose_name = "SLOs and SLAs"

    def ready(self) -> None:
        from slo import promql_series, tasks  # noqa: F401  Django: they read SLO models, loaded after apps.py

        promql_series.register()  # hiveops_slo_* series on /prometheus
