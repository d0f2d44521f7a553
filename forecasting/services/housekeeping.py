"""Retention of what the forecasting app writes."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td

from django.conf import settings

from forecasting.models import Anomaly, ForecastScore, PointScore

ANOMALY_DAYS = 400
ACCURACY_DAYS = 90


def prune(*, now: datetime) -> dict[str, int]:
    """Delete point scores past the score retention, anomalies and accuracy records past theirs."""
    scores, _ = PointScore.objects.filter(ts__lt=now - td(days=settings.HIVEOPS_SCORE_RETENTION_DAYS)).delete()
    anomalies, _ = Anomaly.objects.filter(ts__lt=now - td(days=ANOMALY_DAYS)).delete()
    accuracy, _ = ForecastScore.objects.filter(created_at__lt=now - td(days=ACCURACY_DAYS)).delete()
    return {"scores": scores, "anomalies": anomalies, "accuracy": accuracy}
