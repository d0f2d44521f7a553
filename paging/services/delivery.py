"""Sending one notification: claim it, check the incident still needs it, send, log the attempt."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from datetime import timedelta as td

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts.models import Incident
from alerts.services.alerts import Signal, alert_raise, fingerprint_for
from core import ratelimit
from core.observability import metrics as m
from core.queue import enqueue
from core.teams.models import Membership
from paging.links import ack_url, incident_url
from paging.machines import delivery as machine
from paging.models import Notification, NotificationChannel
from paging.transports import transport_for
from paging.transports.base import Message, PermanentError, TransientError

logger = logging.getLogger(__name__)
RETRY_BASE_S = 5


def message_for(incident: Incident, notification: Notification, action: str = "trigger") -> Message:
    alerts = list(incident.alerts.order_by("first_seen")[:20])
    return Message(
        incident_id=str(incident.uid),
        title=incident.title,
        priority=incident.effective_priority,
        status=incident.status,
        service=incident.service.name if incident.service_id else "",
        summary_lines=[f"[{a.severity}] {a.summary}" for a in alerts],
        incident_url=incident_url(incident),
        ack_url=ack_url(notification_id=notification.pk),
        resolve_url=incident_url(incident),
        action=action,
    )


# Storm control protects people. Machine receivers (webhooks, PagerDuty) get every message: they
# deduplicate and rate-limit on their side, and a digest would hide incidents from them.
STORM_KINDS = ("email", "slack", "teams")


def _storm(notification: Notification, now: datetime) -> bool:
    """Count this message against its target's budget for the minute, atomically (the Redis
    counter of core/ratelimit.py), so parallel workers cannot overshoot; without Redis, count the
    log instead."""
    if notification.kind not in STORM_KINDS:
        return False
    per_minute = settings.HIVEOPS_STORM_LIMIT_PER_MINUTE
    target = notification.channel_id or notification.target
    counter = ratelimit.Counter("channel", f"storm:{notification.kind}:{target}", per_minute)
    verdict = ratelimit.count([counter], now=now.timestamp())
    if verdict.counted:
        return not verdict.allowed
    # Redis away: the delivery log is good enough for one worker
    sent = Notification.objects.filter(
        target=notification.target, status=Notification.Status.SENT, sent_at__gte=now - td(minutes=1)
    )
    return 0 < per_minute < 1 + sent.count()


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> str:
    """Deliver once. The incident row is share-locked while sending, so an acknowledgement
    (which takes its row lock) commits either before the check here or after the send."""
    now = now or timezone.now()
    if not machine.claim(notification_id, due_before=now):
        return "not due or already handled"
    with transaction.atomic():
        notification = Notification.objects.select_related("channel", "user").get(pk=notification_id)
        incident = (
            Incident.objects.select_for_update(no_key=True, of=("self",))
            .select_related("service")
            .get(pk=notification.incident_id)
        )
        if incident.status != Incident.Status.TRIGGERED:
            _finish(notification, Notification.Status.CANCELLED, f"incident {incident.status} before sending")
            return "cancelled"
        refusal = recipient_refusal(notification.user, incident) if notification.user_id else ""
        if refusal:
            _finish(notification, Notification.Status.CANCELLED, refusal)
            return "cancelled"
        if _storm(notification, now):
            _finish(notification, Notification.Status.DIGEST_QUEUED, "storm control: goes out in the next digest")
            return "queued for digest"
        config = notification.channel.config if notification.channel_id else {}
        started = time.monotonic()
        try:
            transport_for(notification.kind).send(notification.target, config, message_for(incident, notification))
        except TransientError as exc:
            return _transient(notification, str(exc), now)
        except PermanentError as exc:
            _finish(notification, Notification.Status.FAILED, str(exc), started)
            _channel_failing(notification, str(exc))
            return "failed"
        _finish(notification, Notification.Status.SENT, "", started)
        if notification.channel_id and notification.channel.failing_since:
            NotificationChannel.objects.filter(pk=notification.channel_id).update(failing_since=None, last_error="")
    return "sent"


def recipient_refusal(user, incident: Incident) -> str:
    """Why a person may no longer be paged for (or act on) an incident; "" when they may."""
    if user is None or not user.is_active:
        return "the person was deactivated"
    if not Membership.objects.filter(user=user, team_id=incident.team_id).exists():
        return "the person is no longer in the team"
    return ""


FINISH_EVENT = {"sent": "sent", "failed": "fail", "cancelled": "cancel", "digest_queued": "hold"}


def _finish(notification: Notification, status: str, error: str, started: float | None = None) -> None:
    m.delivery_done(notification, status)
    fields = {"error": error[:2000]}
    if started is not None:
        fields["duration_ms"] = int((time.monotonic() - started) * 1000)
    if status == Notification.Status.SENT:
        fields["sent_at"] = timezone.now()
    machine.move(notification, FINISH_EVENT[status], **fields)


def _transient(notification: Notification, error: str, now: datetime) -> str:
    notification.refresh_from_db(fields=["attempts"])
    if notification.attempts >= settings.HIVEOPS_DELIVERY_MAX_ATTEMPTS:
        _finish(notification, Notification.Status.FAILED, f"gave up after {notification.attempts} attempts: {error}")
        _channel_failing(notification, error)
        return "failed"
    delay = td(seconds=RETRY_BASE_S * 2 ** (notification.attempts - 1))
    m.delivery_done(notification, "retrying")
    machine.move(notification, "retry", error=error[:2000], not_before=now + delay)
    pk, eta = notification.pk, notification.not_before
    transaction.on_commit(lambda: enqueue("paging.tasks.deliver_notification", pk, eta=eta))
    return f"retry in {delay.total_seconds():.0f} s"


def _channel_failing(notification: Notification, error: str) -> None:
    """A permanent failure marks the channel failing and raises an internal alert for the team."""
    name = notification.channel.name if notification.channel_id else notification.target
    if notification.channel_id:
        NotificationChannel.objects.filter(pk=notification.channel_id, failing_since=None).update(
            failing_since=timezone.now()
        )
        NotificationChannel.objects.filter(pk=notification.channel_id).update(last_error=error[:2000])
    labels = {"alertname": "NotificationChannelFailing", "channel": name, "source": "hiveops"}
    incident = notification.incident
    alert_raise(
        signal=Signal(
            team_id=incident.team_id,
            source="hiveops",
            fingerprint=fingerprint_for("hiveops", "channel", labels),
            labels=labels,
            severity="high",
            summary=f"Notifications to {name} are failing: {error[:200]}",
            actor_name="delivery",
        )
    )


def digests_send(*, now: datetime | None = None) -> int:
    """One message per target for the notifications held back by storm control."""
    queued = list(
        Notification.objects.filter(status=Notification.Status.DIGEST_QUEUED)
        .select_related("incident", "channel")
        .order_by("target", "created_at")
    )
    by_target: dict[tuple[str, str], list[Notification]] = {}
    for notification in queued:
        by_target.setdefault((notification.kind, notification.target), []).append(notification)
    sent = 0
    for (kind, target), items in by_target.items():
        first = items[0]
        incidents = list({n.incident_id: n.incident for n in items}.values())
        message = Message(
            incident_id=str(first.incident.uid),
            title=f"{len(incidents)} incident(s) while notifications were held back",
            priority=min(i.effective_priority for i in incidents),
            status="digest",
            service="",
            summary_lines=[f"P{i.effective_priority} {i.title} ({i.status})" for i in incidents],
            incident_url=incident_url(first.incident),
            ack_url=ack_url(notification_id=first.pk),
            resolve_url=incident_url(first.incident),
        )
        config = first.channel.config if first.channel_id else {}
        try:
            transport_for(kind).send(target, config, message)
        except (TransientError, PermanentError) as exc:
            logger.warning("digest to %s failed: %s", target, exc)
            continue  # stays queued; the next run tries again
        Notification.objects.filter(pk__in=[n.pk for n in items]).update(
            status=Notification.Status.DIGESTED, sent_at=timezone.now()
        )
        sent += 1
    return sent


def channel_test(*, channel: NotificationChannel) -> None:
    """Send a test message through a channel now (admin action); raises the transport's error."""
    message = Message(
        incident_id="test",
        title=f"Test notification from HiveOps to {channel.name}",
        priority=5,
        status="test",
        service="",
        summary_lines=["If you can read this, the channel works."],
        incident_url=settings.HIVEOPS_BASE_URL,
        ack_url=settings.HIVEOPS_BASE_URL,
        resolve_url=settings.HIVEOPS_BASE_URL,
        action="trigger",
    )
    target = ", ".join(channel.config.get("to", [])) or channel.config.get("url", "")
    transport_for(channel.kind).send(target, channel.config, message)
    NotificationChannel.objects.filter(pk=channel.pk).update(failing_since=None, last_error="")


def pagerduty_forward_state(*, incident_id: int, action: str) -> int:
    """Tell the PagerDuty channels that were paged for an incident that it was acknowledged or
    resolved (dedup_key = incident id). Returns how many channels were told."""
    incident = Incident.objects.select_related("service").get(pk=incident_id)
    channel_ids = set(
        Notification.objects.filter(incident=incident, kind="pagerduty", status=Notification.Status.SENT).values_list(
            "channel_id", flat=True
        )
    )
    told = 0
    for channel in NotificationChannel.objects.filter(pk__in=channel_ids):
        message = message_for(incident, Notification(incident=incident, kind="pagerduty"), action=action)
        try:
            transport_for("pagerduty").send(channel.name, channel.config, message)
        except (TransientError, PermanentError) as exc:
            logger.warning("PagerDuty %s for incident %s via %s failed: %s", action, incident.uid, channel, exc)
            continue
        told += 1
    return told
