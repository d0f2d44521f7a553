"""Scrape-time gauges of forecasting's own state: how far anomaly detection and forecast refresh
lag behind. Registered with /metrics in ForecastingConfig.ready (core cannot import this app)."""

from __future__ import annotations

from datetime import timedelta as td

from django.db.models import Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

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
