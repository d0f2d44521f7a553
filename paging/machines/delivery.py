"""The delivery (notification) state machine.

    pending ──claim──> sending ──sent──────> sent
    retrying ─claim─┘     ├──retry──────> retrying
                          ├──fail───────> failed
                          ├──cancel─────> cancelled   (incident no longer triggered)
                          ├──hold───────> digest_queued ──digest──> digested
                          └──lost───────> retrying    (worker died while sending)
    pending, retrying ──cancel──> cancelled            (acknowledged, resolved, paused)

`claim` is a conditional UPDATE from the states listed here, so two workers can never both
send one delivery; `sent` is only reachable from `sending`, so a delivery is sent at most once.
"""

from __future__ import annotations

from django.db.models import F

from alerts.machines import Machine
from paging.models import Notification

PENDING, SENDING, SENT, RETRYING, FAILED = "pending", "sending", "sent", "retrying", "failed"
CANCELLED, DIGEST_QUEUED, DIGESTED = "cancelled", "digest_queued", "digested"

MACHINE = Machine(
    name="delivery",
    states=(PENDING, SENDING, SENT, RETRYING, FAILED, CANCELLED, DIGEST_QUEUED, DIGESTED),
    transitions={
        (PENDING, "claim"): SENDING,
        (RETRYING, "claim"): SENDING,
        (SENDING, "sent"): SENT,
        (SENDING, "retry"): RETRYING,
        (SENDING, "fail"): FAILED,
        (SENDING, "cancel"): CANCELLED,
        (SENDING, "hold"): DIGEST_QUEUED,
        (SENDING, "lost"): RETRYING,
        (DIGEST_QUEUED, "digest"): DIGESTED,
        (PENDING, "cancel"): CANCELLED,
        (RETRYING, "cancel"): CANCELLED,
    },
)
OPEN = (PENDING, RETRYING)  # waiting to be sent


def claim(notification_id: int, *, due_before) -> bool:
    """Take a due delivery for sending; True for exactly one caller."""
    return bool(
        Notification.objects.filter(
            pk=notification_id, status__in=MACHINE.sources("claim"), not_before__lte=due_before
        ).update(status=SENDING, attempts=F("attempts") + 1)
    )


def cancel_open(queryset, *, reason: str) -> int:
    """Cancel the deliveries of `queryset` that are still waiting."""
    return (
        queryset.filter(status__in=MACHINE.sources("cancel"))
        .exclude(status=SENDING)
        .update(status=CANCELLED, error=f"cancelled: {reason}"[:2000])
    )


def move(notification: Notification, event: str, **fields) -> Notification:
    """Move a claimed delivery along `event` and save the changed fields."""
    notification.status = MACHINE.next_state(notification.status, event)
    for name, value in fields.items():
        setattr(notification, name, value)
    notification.save(update_fields=["status", *fields])
    return notification


def mark_lost(queryset) -> int:
    """Deliveries of `queryset` claimed by a worker that died mid-send go back to the queue
    (at-least-once in that one case: a send just before the crash may repeat)."""
    return queryset.filter(status__in=MACHINE.sources("lost")).update(
        status=MACHINE.next_state(SENDING, "lost"), error="worker lost during sending; retried"
    )
