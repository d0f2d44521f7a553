from __future__ import annotations

from django.apps import AppConfig


class CapacityConfig(AppConfig):
    name = "capacity"

    def ready(self) -> None:
        from capacity import evaluator, tasks  # noqa: F401  Django: both read models, loaded after apps.py

        evaluator.register()
