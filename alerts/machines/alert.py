"""The alert state machine.

    pending ──fire──> firing ──acknowledge──> acknowledged
                         ↑  ↖──unacknowledge / ack_timeout──┘
                      reopen / refire
                         │
            resolved <──resolve── (pending, firing, acknowledged)

`refire` is a rule or source breaching again after a resolve (within the flap window the same
alert reopens, so its history stays one timeline); `reopen` is a person's hand.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from alerts.machines import Machine
from alerts.models import Alert, Silence
from alerts.services.timeline import alert_event

PENDING, FIRING, ACKNOWLEDGED, RESOLVED = "pending", "firing", "acknowledged", "resolved"

MACHINE = Machine(
    name="alert",
    states=(PENDING, FIRING, ACKNOWLEDGED, RESOLVED),
    transitions={
        (PENDING, "fire"): FIRING,
        (PENDING, "acknowledge"): ACKNOWLEDGED,
        (PENDING, "resolve"): RESOLVED,
        (FIRING, "acknowledge"): ACKNOWLEDGED,
        (FIRING, "resolve"): RESOLVED,
        (ACKNOWLEDGED, "unacknowledge"): FIRING,
        (ACKNOWLEDGED, "ack_timeout"): FIRING,
        (ACKNOWLEDGED, "resolve"): RESOLVED,
        (RESOLVED, "reopen"): FIRING,
        (RESOLVED, "refire"): FIRING,
        (RESOLVED, "rearm"): PENDING,
    },
)

# The timeline kind each event writes (kept from the first version of the timeline).
EVENT_KIND = {
    "fire": "firing",
    "acknowledge": "acknowledged",
    "resolve": "resolved",
    "unacknowledge": "unacknowledged",
    "ack_timeout": "ack_timeout",
    "reopen": "reopened",
    "refire": "reopened",
    "rearm": "reopened",
}


def apply(
    alert: Alert,
    event: str,
    *,
    by=None,
    actor_name: str | None = None,
    at: datetime | None = None,
    message: str = "",
    **data,
) -> Alert:
    """Move a (locked) alert along `event`, save it and write its timeline event."""
    target = MACHINE.next_state(alert.status, event)
    at = at or timezone.now()
    alert.status = target
    if target == FIRING:
        alert.fired_at = alert.fired_at if event in ("unacknowledge", "ack_timeout") else at
        alert.acknowledged_at = alert.acknowledged_by = None
    if target == PENDING:
        alert.fired_at = alert.acknowledged_at = alert.acknowledged_by = None
    if alert.resolved_at and target in (FIRING, PENDING):
        alert.resolved_at = alert.resolved_by = None
        alert.last_seen = at
    if target == ACKNOWLEDGED:
        alert.acknowledged_at, alert.acknowledged_by = at, by
    if target == RESOLVED:
        alert.resolved_at, alert.resolved_by = at, by
        alert.snoozed_until, alert.snoozed_until_clear = None, False  # a snooze ends with the alert
    alert.save()
    alert_event(alert, EVENT_KIND[event], by=by, actor_name=actor_name, message=message, **data)
    if target == RESOLVED:
        _end_silences(alert, at)
    return alert


def _end_silences(alert: Alert, at: datetime) -> None:
    """Silences made for this alert with "expire when it resolves" end with it."""
    if Silence.objects.filter(for_alert=alert, expire_on_resolve=True, expired_at=None).update(expired_at=at):
        alert_event(alert, "silence_expired", actor_name="system", message="silence ended with the alert")
