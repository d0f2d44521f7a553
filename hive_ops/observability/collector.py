"""Gauges computed when /metrics is scraped, from state every process shares: Celery queue
lengths (Redis lists on the broker), detection backlog (Redis), detection and forecast lag
(PostgreSQL), heartbeat ages."""

from __future__ import annotations

import logging
import time
from datetime import timedelta as td

import redis
from django.conf import settings
from django.db.models import Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from hive_ops import fastredis
from hive_ops.observability import heartbeats

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


def detection_backlog() -> dict[str, float]:
    """Detection on ingest is queued, never inline (forecasting/receivers.py): how far behind it
    is. `seconds`: age of the oldest samples whose series still wait for a detection run (0 when
    none wait); `series`: how many series wait; `last_run_delay`: the longest, over teams, time
    from the arrival of a run's oldest samples to the end of that run. Read from the Redis keys
    the receiver and forecasting.tasks.detect_team keep (names in forecasting/receivers.py)."""
    client = fastredis.client()
    now = time.time()
    since = [float(v) for v in _values(client, fastredis.key("detect:since:*")) if v is not None]
    delays = [float(v) for v in _values(client, fastredis.key("detect:delay:*")) if v is not None]
    pipe = client.pipeline(transaction=False)
    for name in client.scan_iter(match=fastredis.key("detect:dirty:*"), count=500):
        pipe.scard(name)
    return {
        "seconds": max(0.0, now - min(since)) if since else 0.0,
        "series": float(sum(pipe.execute())),
        "last_run_delay": max(delays) if delays else 0.0,
    }


def _values(client, pattern: str) -> list:
    names = list(client.scan_iter(match=pattern, count=500))
    return client.mget(names) if names else []


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
            backlog = detection_backlog()
            for name, help_text in (
                ("seconds", "Age of the oldest ingested samples still waiting for anomaly detection"),
                ("series", "Series with samples waiting for anomaly detection"),
                ("last_run_delay", "Seconds from the oldest samples of the last detection run to its end"),
            ):
                gauge = GaugeMetricFamily(f"hiveops_detection_backlog_{name}", help_text)
                gauge.add_metric([], backlog[name])
                yield gauge
        except (redis.RedisError, OSError):  # the heartbeat gauges above already report Redis
            logger.warning("scrape: detection backlog not computed", exc_info=True)
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
