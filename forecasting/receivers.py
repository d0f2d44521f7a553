"""Score new points soon after they arrive: one detection task per ingest batch (chunked).
Must be cheap and must never fail the ingest; the periodic sweep catches anything missed."""

from __future__ import annotations

import logging

from django.dispatch import receiver

# Imported here, when the app starts, not on the first ingest: the forecasting code pulls in
# numpy/pandas, which took over 10 s on a loaded machine and timed that first request out.
from forecasting.tasks import detect_series
from metrics.signals import samples_ingested

logger = logging.getLogger(__name__)
CHUNK = 2000


@receiver(samples_ingested)
def detect_on_ingest(sender, *, team_id: int, series: dict[str, list[int]], **kwargs) -> None:
    ids = [sid for ids in series.values() for sid in ids]
    try:
        for i in range(0, len(ids), CHUNK):
            detect_series.delay(ids[i : i + CHUNK])
    except Exception:  # broker down: the sweep (every 30 s) scores what was missed
        logger.warning("could not enqueue detection for team %s", team_id, exc_info=True)
