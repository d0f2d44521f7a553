"""Scrape-time gauges of forecasting's own state: how far anomaly detection and forecast refresh
lag behind. Registered with /metrics in ForecastingConfig.ready (core cannot import this app)."""

from __future__ import annotations

import time
from datetime import timedelta as td

from django.db.models import Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from core import fastredis
from forecasting.models import ForecastModel, SeriesDetector

ACTIVE = td(days=1)  # a detector whose cursor moved within a day is active


def lags() -> dict[str, float | None]:
    """Seconds between now and the oldest cursor of an active detector, and between now and the
    oldest refresh of an active series' forecast (None when there is none)."""
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


def lag_gauges():
    """The two lag gauges; core's scrape collector reports a failure here as source "database"."""
    found = lags()
    for name, help_text in (
        ("detection", "Seconds since the oldest cursor of an active anomaly detector"),
        ("forecast", "Seconds since the oldest forecast refresh of an active series"),
    ):
        gauge = GaugeMetricFamily(f"hiveops_{name}_lag_seconds", help_text)
        if found[name] is not None:
            gauge.add_metric([], found[name])
        yield gauge


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


def backlog_gauges():
    """Detection on ingest is queued, never inline: how far behind it is (Redis)."""
    backlog = detection_backlog()
    for name, help_text in (
        ("seconds", "Age of the oldest ingested samples still waiting for anomaly detection"),
        ("series", "Series with samples waiting for anomaly detection"),
        ("last_run_delay", "Seconds from the oldest samples of the last detection run to its end"),
    ):
        gauge = GaugeMetricFamily(f"hiveops_detection_backlog_{name}", help_text)
        gauge.add_metric([], backlog[name])
        yield gauge
