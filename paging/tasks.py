"""Paging tasks: thin, fenced or claimed, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from paging.services import delivery, escalation, oncall


@shared_task(acks_late=True)
def escalation_step(escalation_id: int, fence: str) -> str:
    """One escalation level. Fenced by the escalation's current fence; safe to run twice."""
    return escalation.escalation_step(escalation_id=escalation_id, fence=fence)


@shared_task(acks_late=True)
def deliver_notification(notification_id: int) -> str:
    return delivery.notification_deliver(notification_id=notification_id)


@shared_task(acks_late=True)
def audit_escalations() -> str:
    """Every 30 s: run due steps whose tasks were lost, re-send stranded deliveries, report stuck ones."""
    return str(escalation.escalations_audit())


@shared_task(acks_late=True)
def send_digests() -> str:
    return f"{delivery.digests_send()} digest(s) sent"


@shared_task(acks_late=True)
def notify_handoffs() -> str:
    return f"{oncall.handoffs_notify()} handoff(s) announced"


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=5, max_retries=5)
def forward_incident_state(incident_id: int, action: str) -> str:
    """acknowledge/resolve to the PagerDuty channels that were paged (idempotent on their side)."""
    return f"told {delivery.pagerduty_forward_state(incident_id=incident_id, action=action)} PagerDuty channel(s)"
