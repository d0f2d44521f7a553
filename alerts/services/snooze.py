"""Snooze: keep an open alert quiet (no paging) for a chosen time or until its source clears.
A snoozed alert stays open and visible; when the snooze ends and it still fires, paging starts
again as a new episode. Resolving by hand is not a way to silence a breach: it fires again."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td

from django.db import transaction
from django.utils import timezone

from alerts import events
from alerts.models import Alert, Incident
from alerts.models.alerts import OPEN_STATUSES
from alerts.services.muting import alert_refresh_muting
from alerts.services.timeline import alert_event, incident_event

UNTIL_CLEAR = "until_clear"
CHOICES: dict[str, td | None] = {
    "30m": td(minutes=30),
    "1h": td(hours=1),
    "4h": td(hours=4),
    "24h": td(hours=24),
    UNTIL_CLEAR: None,
}
LABELS = {"30m": "30 min", "1h": "1 h", "4h": "4 h", "24h": "24 h", UNTIL_CLEAR: "until it clears"}


class SnoozeError(ValueError):
    """A refused snooze; the message names the field."""


def snooze_until(duration: str, now: datetime) -> datetime | None:
    """The end of a snooze of `duration` (None: until the source clears); SnoozeError otherwise."""
    if duration not in CHOICES:
        raise SnoozeError(f"duration must be one of {', '.join(CHOICES)}")
    length = CHOICES[duration]
    return None if length is None else now + length


def _snooze_one(alert: Alert, *, by, duration: str, until: datetime | None, now: datetime, channel: str) -> None:
    alert.snoozed_until, alert.snoozed_until_clear = until, until is None
    alert.save(update_fields=["snoozed_until", "snoozed_until_clear"])
    when = "until it clears" if until is None else f"for {LABELS[duration]} (until {until:%Y-%m-%d %H:%M} UTC)"
    data = {"channel": channel} if channel else {}
    alert_event(alert, "snooze_set", by=by, message=f"snoozed {when}", **data)
    alert_refresh_muting(alert=alert, now=now)
    events.alert_changed(alert)


@transaction.atomic
def alert_snooze(*, alert: Alert, by, duration: str, channel: str = "", now: datetime | None = None) -> Alert:
    now = now or timezone.now()
    until = snooze_until(duration, now)
    alert = Alert.objects.select_for_update(of=("self",)).select_related("incident").get(pk=alert.pk)
    if alert.status not in OPEN_STATUSES:
        raise SnoozeError(f"alert is {alert.status}; only open alerts can be snoozed")
    _snooze_one(alert, by=by, duration=duration, until=until, now=now, channel=channel)
    return alert


@transaction.atomic
def alert_unsnooze(*, alert: Alert, by, now: datetime | None = None) -> Alert:
    now = now or timezone.now()
    alert = Alert.objects.select_for_update(of=("self",)).select_related("incident").get(pk=alert.pk)
    if not (alert.snoozed_until_clear or alert.snoozed_until):
        raise SnoozeError("alert is not snoozed")
    alert.snoozed_until, alert.snoozed_until_clear = None, False
    alert.save(update_fields=["snoozed_until", "snoozed_until_clear"])
    alert_event(alert, "snooze_cleared", by=by, message="snooze ended by hand")
    alert_refresh_muting(alert=alert, now=now)
    events.alert_changed(alert)
    return alert


@transaction.atomic
def incident_snooze(*, incident: Incident, by, duration: str, channel: str = "", now: datetime | None = None) -> int:
    """Snooze every open alert of the incident; returns how many."""
    now = now or timezone.now()
    until = snooze_until(duration, now)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status == Incident.Status.RESOLVED:
        raise SnoozeError("incident is resolved; nothing to snooze")
    alerts = list(incident.alerts.select_for_update().filter(status__in=OPEN_STATUSES).select_related("incident"))
    for alert in alerts:
        _snooze_one(alert, by=by, duration=duration, until=until, now=now, channel=channel)
    when = "until its alerts clear" if until is None else f"for {LABELS[duration]}"
    incident_event(incident, "snoozed", by=by, message=f"{len(alerts)} alert(s) snoozed {when}", channel=channel)
    return len(alerts)
