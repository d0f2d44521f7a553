"""Evaluate rules right after their inputs change: samples for threshold and forecast-breach
rules, anomaly scores for anomaly rules, fresh forecasts for forecast-breach rules. One task per
batch that touches a metric some enabled rule of those kinds watches. Must be cheap and must
never fail the write that sent the signal."""

from __future__ import annotations

import logging
import time

from django.dispatch import receiver

from alerts.models import AlertRule
from core.queue import enqueue
from forecasting.signals import forecasts_refreshed, points_scored
from metrics.signals import samples_ingested

logger = logging.getLogger(__name__)
CACHE_SECONDS = 5.0
EVALUATION_EXPIRES_S = 20
ON_SAMPLES = ("threshold", "forecast_breach")
_watched: dict[tuple[int, tuple[str, ...]], tuple[float, frozenset[str]]] = {}


def watched_metrics(team_id: int, kinds: tuple[str, ...] = ON_SAMPLES) -> frozenset[str]:
    """Metrics with enabled rules of these kinds, cached per process for a few seconds."""
    cached = _watched.get((team_id, kinds))
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    metrics = frozenset(
        AlertRule.objects.filter(team_id=team_id, enabled=True, kind__in=kinds).values_list("metric", flat=True)
    )
    _watched[(team_id, kinds)] = (time.monotonic(), metrics)
    return metrics


def _enqueue(team_id: int, series: dict[str, list[int]], kinds: tuple[str, ...]) -> None:
    hits = {metric: ids for metric, ids in series.items() if metric in watched_metrics(team_id, kinds)}
    if not hits:
        return
    # Expiring: when the worker falls behind, stale evaluations are dropped rather than queued
    # without bound; the periodic evaluation (every 30 s) covers what expired, or a broker outage.
    enqueue("alerts.tasks.evaluate_series", team_id, hits, list(kinds), expires=EVALUATION_EXPIRES_S)


@receiver(samples_ingested)
def evaluate_on_ingest(sender, *, team_id: int, series: dict[str, list[int]], **kwargs) -> None:
    _enqueue(team_id, series, ON_SAMPLES)


@receiver(points_scored)
def evaluate_on_scores(sender, *, team_id: int, series: dict[str, list[int]], **kwargs) -> None:
    _enqueue(team_id, series, ("anomaly",))


@receiver(forecasts_refreshed)
def evaluate_on_forecasts(sender, *, team_id: int, series: dict[str, list[int]], **kwargs) -> None:
    _enqueue(team_id, series, ("forecast_breach",))
