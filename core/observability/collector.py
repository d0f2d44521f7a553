"""Gauges computed when /metrics is scraped, from state every process shares: Celery queue
lengths (Redis lists on the broker) and heartbeat ages. Apps add their own scrape-time gauges
through `prometheus.scrape_collector_register` (forecasting: detection and forecast lag)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import redis
from django.conf import settings
from prometheus_client.core import GaugeMetricFamily

from core.observability import heartbeats

logger = logging.getLogger(__name__)
_broker: dict[str, redis.Redis] = {}
_sources: list[tuple[str, Callable[[], Iterable]]] = []


def scrape_source_register(source: str, gauges: Callable[[], Iterable]) -> None:
    """An app's scrape-time gauges; if reading them fails, `hiveops_scrape_source_errors{source}`
    is 1 and the rest of the page is still served."""
    _sources.append((source, gauges))


def queue_names() -> list[str]:
    names = {settings.CELERY_TASK_DEFAULT_QUEUE}
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    return sorted(names)


def queue_lengths() -> dict[str, int]:
    url = settings.CELERY_BROKER_URL
    if url not in _broker:
        _broker[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    pipe = _broker[url].pipeline(transaction=False)
    names = queue_names()
    prefix = (settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get("global_keyprefix", "")
    for name in names:
        pipe.llen(prefix + name)  # Celery keeps the queue under its key prefix
    return dict(zip(names, pipe.execute(), strict=True))


class ScrapeCollector:
    def collect(self):
        errors = GaugeMetricFamily(
            "hiveops_scrape_source_errors", "1 when a source could not be read", labels=["source"]
        )
        try:
            queues = GaugeMetricFamily("hiveops_queue_length", "Tasks waiting in a Celery queue", labels=["queue"])
            for name, length in queue_lengths().items():
                queues.add_metric([name], length)
            yield queues
            errors.add_metric(["broker"], 0)
        except (redis.RedisError, OSError):
            errors.add_metric(["broker"], 1)
        try:
            ages = GaugeMetricFamily(
                "hiveops_heartbeat_age_seconds", "Seconds since the beat / worker heartbeat", labels=["process"]
            )
            for name, age in heartbeats.ages().items():
                if age is not None:
                    ages.add_metric([name], age)
            yield ages
            errors.add_metric(["redis"], 0)
        except (redis.RedisError, OSError):
            errors.add_metric(["redis"], 1)
        for source, gauges in _sources:
            try:
                yield from list(gauges())
                errors.add_metric([source], 0)
            except Exception:  # database down: the rest of the page still helps
                logger.warning("scrape: %s gauges not computed", source, exc_info=True)
                errors.add_metric([source], 1)
        yield errors
