from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from metrics import storage
from metrics.storage_health import StorageCollector


def _say_layout(sender, stdout=None, verbosity=1, **kwargs) -> None:
    """migrate's output names the storage layout migration 0002 chose, and why."""
    while storage.layout_chosen:
        message = f"  metrics storage layout: {storage.layout_chosen.pop(0)}\n"
        if stdout is not None and verbosity >= 1:
            stdout.write(message)


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        # Imported here: the /metrics view module reads team models, not loaded before ready().
        from core.observability.prometheus import scrape_collector_register  # reads team models

        post_migrate.connect(_say_layout, sender=self, dispatch_uid="metrics-storage-layout")
        scrape_collector_register(StorageCollector())
