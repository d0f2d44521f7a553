""" "Not an anomaly" feedback: recorded per series, reversible. Each active feedback raises the
score the series' anomaly alerts need (see forecasting.thresholds); revoking restores it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from forecasting.models import Anomaly, Feedback


@transaction.atomic
def feedback_record(
    *, series, by=None, anomaly: Anomaly | None = None, alert_id: int | None = None, kind: str = "", note: str = ""
) -> Feedback:
    """Idempotent per alert: giving feedback twice on one alert records it once."""
    if alert_id is not None:
        existing = Feedback.objects.filter(series=series, alert_id=alert_id, revoked_at=None).first()
        if existing is not None:
            return existing
    return Feedback.objects.create(
        team_id=series.team_id,
        series=series,
        anomaly=anomaly,
        alert_id=alert_id,
        kind=kind or (anomaly.kind if anomaly else ""),
        note=note,
        created_by=by,
    )


def feedback_revoke(*, feedback: Feedback, by=None) -> Feedback:
    """Idempotent: revoking twice keeps the first revocation."""
    Feedback.objects.filter(pk=feedback.pk, revoked_at=None).update(revoked_at=timezone.now(), revoked_by=by)
    feedback.refresh_from_db()
    return feedback
