from __future__ import annotations

from django.apps import AppConfig


class CapacityConfig(AppConfig):
    name = "capacity"

    def ready(self) -> None:
        from alerts.evaluators import registry
        from capacity.evaluator import CapacityEvaluator

        registry.register(CapacityEvaluator())  # the rule kind "capacity" ("will exhaust within N days")
