from __future__ import annotations

from django.apps import AppConfig


class PagingConfig(AppConfig):
    """Escalation, on-call, channels and deliveries: getting a person onto an incident."""

    name = "paging"

    def ready(self) -> None:
        from paging import receivers, tasks  # noqa: F401  Django: both read models, loaded after apps.py

        receivers.connect()
