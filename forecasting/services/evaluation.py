"""Benchmark runs of the production detector and forecaster, kept for the model card."""

from __future__ import annotations

import logging

from django.db import DatabaseError

from forecasting.models import EvaluationRun

logger = logging.getLogger(__name__)


def evaluation_record(
    *, kind: str, dataset: str, series: int, scores: dict, details: dict | None = None, duration_s: float = 0.0
) -> EvaluationRun | None:
    """Store the run; a benchmark must still print its scores when the database is away."""
    try:
        return EvaluationRun.objects.create(
            kind=kind, dataset=dataset, series=series, scores=scores, details=details or {}, duration_s=duration_s
        )
    except DatabaseError:
        logger.warning("could not record the %s run in the database", kind, exc_info=True)
        return None
