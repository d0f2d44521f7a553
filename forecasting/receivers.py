"""Score new points soon after they arrive, without one task per ingest batch: the batch's
series go into a per-team set in Redis and at most one detection task per team is queued every
couple of seconds (it takes the whole set). A busy sender used to queue tasks faster than a
worker could run them (the soak bench saw the queue grow to 25,000). Must be cheap and must never
fail the ingest; when Redis is away the sweep (every 30 s) scores what was missed."""

from __future__ import annotations

import logging
import time
from datetime import timedelta as td

from django.dispatch import receiver
from django.utils import timezone

from core import fastredis
from core.queue import enqueue

# Imported here, when the app starts, not on the first ingest: the forecasting code pulls in
# numpy/pandas, which took over 10 s on a loaded machine and timed that first request out.
from metrics.signals import samples_ingested

logger = logging.getLogger(__name__)
COALESCE_S = 2


def dirty_key(team_id: int) -> str:
    return fastredis.key(f"detect:dirty:{team_id}")


def since_key(team_id: int) -> str:
    """When the oldest samples still waiting for a detection run of the team arrived (unix time).
    Set by the first ingest after a run took the team's set; the detection backlog gauge in
    /metrics is its age (core/observability/collector.py)."""
    return fastredis.key(f"detect:since:{team_id}")


def delay_key(team_id: int) -> str:
    """Seconds from the arrival of the oldest samples of the team's last detection run to the end
    of that run (written by forecasting.tasks.detect_team)."""
    return fastredis.key(f"detect:delay:{team_id}")


def queued_key(team_id: int) -> str:
    """Set while a detection run of the team is queued and has not started (expires as a safety)."""
    return fastredis.key(f"detect:queued:{team_id}")


@receiver(samples_ingested)
def detect_on_ingest(sender, *, team_id: int, series: dict[str, list[int]], **kwargs) -> None:
    ids = [sid for ids in series.values() for sid in ids]
    if not ids:
        return
    try:
        redis = fastredis.client()
        pipe = redis.pipeline(transaction=False)
        pipe.sadd(dirty_key(team_id), *ids)
        pipe.set(since_key(team_id), time.time(), nx=True, ex=86400)
        pipe.set(queued_key(team_id), 1, nx=True, ex=30)
        _, _, first = pipe.execute()
        if first:
            enqueue("forecasting.tasks.detect_team", team_id, eta=timezone.now() + td(seconds=COALESCE_S))
    except Exception:  # Redis or the broker away: the sweep (every 30 s) scores what was missed
        logger.warning("could not queue detection for team %s", team_id, exc_info=True)
