"""Periodic upkeep of open alerts, run by beat every minute. Each step is idempotent."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td

from django.db import transaction

from alerts.machines import alert as machine
from alerts.models import Alert
from alerts.models.alerts import OPEN_STATUSES
from alerts.services.alerts import alert_resolve, alerts_settle_flapping
from alerts.services.incidents import incident_refresh
from alerts.services.muting import muting_refresh_team, silences_expire
from catalog.models import Service

DEFAULT_ACK_TIMEOUT = Service._meta.get_field("ack_timeout").default
DEFAULT_AUTO_RESOLVE = Service._meta.get_field("auto_resolve_timeout").default


def auto_resolve_stale(*, now: datetime) -> int:
    """External alerts not re-sent within their service's auto-resolve timeout resolve themselves."""
    resolved = 0
    stale = Alert.objects.filter(status__in=OPEN_STATUSES).exclude(source="rule").select_related("service")
    for alert in stale.filter(last_seen__lt=now - td(minutes=1)):
        timeout = alert.service.auto_resolve_timeout if alert.service_id else DEFAULT_AUTO_RESOLVE
        if timeout and alert.last_seen < now - timeout:
            alert_resolve(alert=alert, actor_name="system", reason=f"not seen for {timeout} (auto-resolve timeout)")
            resolved += 1
    return resolved


def retrigger_unacknowledged(*, now: datetime) -> int:
    """Acknowledged but unresolved past the acknowledgement timeout: back to firing."""
    count = 0
    acked = Alert.objects.filter(status=Alert.Status.ACKNOWLEDGED).select_related("service")
    for alert in acked.filter(acknowledged_at__lt=now - td(minutes=1)):
        timeout = alert.service.ack_timeout if alert.service_id else DEFAULT_ACK_TIMEOUT
        if alert.acknowledged_at >= now - timeout:
            continue
        with transaction.atomic():
            locked = (
                Alert.objects.select_for_update(of=("self",))
                .select_related("incident")
                .filter(pk=alert.pk, status=Alert.Status.ACKNOWLEDGED, acknowledged_at=alert.acknowledged_at)
                .first()
            )
            if locked is None:
                continue
            message = f"acknowledged more than {timeout} ago and not resolved; firing again"
            machine.apply(locked, "ack_timeout", actor_name="system", at=now, message=message)
            if locked.incident_id:
                incident_refresh(incident=locked.incident)
            count += 1
    return count


def run(*, now: datetime) -> dict:
    teams = set(silences_expire(now=now))
    teams |= set(Alert.objects.filter(status__in=OPEN_STATUSES).values_list("team_id", flat=True).distinct())
    muted = sum(muting_refresh_team(team_id=team_id, now=now) for team_id in teams)
    return {
        "muting_changes": muted,
        "auto_resolved": auto_resolve_stale(now=now),
        "retriggered": retrigger_unacknowledged(now=now),
        "flaps_settled": alerts_settle_flapping(now=now),
    }
