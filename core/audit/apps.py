from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "core.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from core.audit import receivers  # Django: receivers read models, loaded after apps.py

        receivers.connect()
