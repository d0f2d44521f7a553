from __future__ import annotations

from django.apps import AppConfig


class CapacityConfig(AppConfig):
    name = "capacity"

    def ready(self) -> None:
        from capacity import evaluator  # Django: models load after apps.py; the rule kind reads them

        evaluator.register()
