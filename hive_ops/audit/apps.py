from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "hive_ops.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from hive_ops.audit import receivers

        receivers.connect()
