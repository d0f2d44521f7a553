"""Hand-made alert histories for the quality tests."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td

from alerts.models import Alert, AlertEvent, Incident
from alerts.services.alerts import fingerprint_for
from paging.models import Notification


def alert(team, *, at: datetime, rule=None, service=None, ack_after=None, resolve_after=None, **kw) -> Alert:
    n = Alert.objects.count()
    labels = {"alertname": f"a{n}"}
    return Alert.objects.create(
        team=team,
        rule=rule,
        service=service,
        source="test",
        fingerprint=fingerprint_for("test", n, labels),
        labels=labels,
        status="resolved" if resolve_after is not None else "firing",
        first_seen=at,
        fired_at=at,
        acknowledged_at=at + ack_after if ack_after is not None else None,
        resolved_at=at + resolve_after if resolve_after is not None else None,
        **{"summary": f"alert {n}", **kw},
    )


def event(a: Alert, kind: str, *, by=None, after=td(minutes=1)) -> AlertEvent:
    return AlertEvent.objects.create(
        alert=a, at=a.fired_at + after, kind=kind, actor=by, actor_name=by.username if by else "system"
    )


def page(team, alerts: list[Alert], *, at: datetime, user=None) -> Notification:
    incident = Incident.objects.create(team=team, group_key=f"g{Incident.objects.count()}", title="t", opened_at=at)
    Alert.objects.filter(id__in=[a.id for a in alerts]).update(incident=incident)
    n = Notification.objects.count()
    return Notification.objects.create(
        incident=incident,
        user=user,
        kind="email",
        target="x@example.com",
        dedup_key=f"d{n}",
        status="sent",
        created_at=at,
    )
