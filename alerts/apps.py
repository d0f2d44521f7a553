from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self) -> None:
        # Django imports apps.py before models exist; these modules read models, so they load here.
        from alerts import receivers, tasks  # noqa: F401  (receivers: rules on ingest; tasks: registered)
        from alerts.evaluators import builtin  # the built-in rule kinds (they read models too)

        builtin.register()
