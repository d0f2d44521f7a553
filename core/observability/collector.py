"""Gauges computed when /metrics is scraped, from state every process shares: Celery queue
lengths (Redis lists on the broker), detection and forecast lag (PostgreSQL), heartbeat ages."""

from __future__ import annotations

import logging
from datetime import timedelta as td

import redis
from django.conf import settings
from django.db.models import Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from core.observability import heartbeats

logger = logging.getLogger(__name__)
ACTIVE = td(days=1)  # a detector whose cursor moved within a day is active (as forecasting uses it)
_broker: dict[str, redis.Redis] = {}


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


def lags() -> dict[str, float | None]:
    """Seconds between now and the oldest cursor of an active detector, and between now and the
    oldest refresh of an active series' forecast (None when there is none)."""
    from forecasting.models import ForecastModel, SeriesDetector

    now = timezone.now()
    active = SeriesDetector.objects.filter(last_ts__gte=now - ACTIVE)
    oldest_cursor = active.aggregate(v=Min("last_ts"))["v"]
    oldest_forecast = ForecastModel.objects.filter(series_id__in=active.values("series_id")).aggregate(
        v=Min(Coalesce("refreshed_at", "selected_at"))
    )["v"]
    return {
        "detection": None if oldest_cursor is None else (now - oldest_cursor).total_seconds(),
        "forecast": None if oldest_forecast is None else (now - oldest_forecast).total_seconds(),
    }


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
        try:
            found = lags()
            for name, help_text in (
                ("detection", "Seconds since the oldest cursor of an active anomaly detector"),
                ("forecast", "Seconds since the oldest forecast refresh of an active series"),
            ):
                gauge = GaugeMetricFamily(f"hiveops_{name}_lag_seconds", help_text)
                if found[name] is not None:
                    gauge.add_metric([], found[name])
                yield gauge
            errors.add_metric(["database"], 0)
        except Exception:  # database down: the rest of the page still helps
            logger.warning("scrape: lag gauges not computed", exc_info=True)
            errors.add_metric(["database"], 1)
        yield errors
