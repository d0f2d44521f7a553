"""Evaluate rules right after samples arrive: enqueue one task per batch that touches a metric
some enabled rule watches. Must be cheap and must never fail the ingest."""

from __future__ import annotations

import logging
import time

from django.dispatch import receiver

from alerts.models import AlertRule
from metrics.signals import samples_ingested

logger = logging.getLogger(__name__)
CACHE_SECONDS = 5.0
EVALUATION_EXPIRES_S = 20
_watched: dict[int, tuple[float, frozenset[str]]] = {}


def watched_metrics(team_id: int) -> frozenset[str]:
    """Metrics with enabled non-absence rules, cached per process for a few seconds."""
    cached = _watched.get(team_id)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    metrics = frozenset(
        AlertRule.objects.filter(team_id=team_id, enabled=True).exclude(kind="absence").values_list("metric", flat=True)
    )
    _watched[team_id] = (time.monotonic(), metrics)
    return metrics


@receiver(samples_ingested)
def evaluate_on_ingest(sender, *, team_id: int, series: dict[str, list[int]], **kwargs) -> None:
    from alerts.tasks import evaluate_series

    hits = {metric: ids for metric, ids in series.items() if metric in watched_metrics(team_id)}
    if not hits:
        return
    try:
        # Expiring: when the worker falls behind, stale evaluations are dropped rather than
        # queued without bound; the periodic evaluation (every 30 s) covers what expired.
        evaluate_series.apply_async((team_id, hits), expires=EVALUATION_EXPIRES_S)
    except Exception:  # broker down: the periodic evaluation (every 30 s) still runs the rules
        logger.warning("could not enqueue rule evaluation for team %s", team_id, exc_info=True)
