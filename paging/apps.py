from __future__ import annotations

from django.apps import AppConfig


class PagingConfig(AppConfig):
    """Escalation, on-call, channels and deliveries: getting a person onto an incident."""

    name = "paging"

    def ready(self) -> None:
        from alerts.signals import incident_changed
        from paging import tasks  # noqa: F401  registers the paging tasks
        from paging.services.escalation import on_incident_changed

        incident_changed.connect(on_incident_changed, dispatch_uid="paging-follows-incidents")
