"""On-call upkeep: handoff notifications."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from paging.models import OnCallRotation
from paging.selectors import on_call_at
from paging.transports import transport_for
from paging.transports.base import Message, PermanentError, TransientError

ANNOUNCE_WITHIN = td(minutes=30)


def handoffs_notify(*, now: datetime | None = None) -> int:
    """Email whoever just came on call (once per shift) for rotations that ask for it."""
    now = now or timezone.now()
    sent = 0
    for rotation in OnCallRotation.objects.filter(notify_handoff=True):
        shift = on_call_at(rotation=rotation, at=now)
        if shift is None or now - shift.start > ANNOUNCE_WITHIN or rotation.handoff_notified_for == shift.start:
            continue
        user = get_user_model().objects.filter(pk=shift.user_id).first()
        if user is None or not user.email:
            continue
        with transaction.atomic():
            claimed = (
                OnCallRotation.objects.filter(pk=rotation.pk)
                .exclude(handoff_notified_for=shift.start)
                .update(handoff_notified_for=shift.start)
            )
            if not claimed:
                continue
            message = Message(
                incident_id=f"handoff-{rotation.pk}",
                title=f"You are on call for {rotation.name}",
                priority=5,
                status="on call",
                service="",
                summary_lines=[f"From {shift.start:%Y-%m-%d %H:%M %Z} until {shift.end:%Y-%m-%d %H:%M %Z}"],
                incident_url="",
                ack_url="",
                resolve_url="",
            )
            try:
                transport_for("email").send(user.email, {}, message)
            except (TransientError, PermanentError):
                transaction.set_rollback(True)  # try again on the next run
                continue
            sent += 1
    return sent
