from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from alerts.models import AlertRule
from alerts.services import delivery, escalation, housekeeping, muting, oncall, rules


@shared_task(acks_late=True)
def evaluate_series(team_id: int, series_by_metric: dict[str, list[int]], kinds: list[str] | None = None) -> str:
    """Evaluate the rules (of `kinds`) watching metrics whose series just changed, for those series."""
    transitions = 0
    for rule in rules.rules_for_metrics(team_id=team_id, metrics=list(series_by_metric), kinds=kinds):
        transitions += rules.rule_evaluate(rule=rule, series_ids=series_by_metric[rule.metric]).transitions
    return f"{transitions} transition(s)"


@shared_task(acks_late=True)
def evaluate_rule(rule_id: int) -> str:
    rule = AlertRule.objects.filter(pk=rule_id, enabled=True).select_related("service").first()
    if rule is None:
        return "rule gone or disabled"
    report = rules.rule_evaluate(rule=rule)
    return f"{report.series} series, {report.transitions} transition(s)"


@shared_task(acks_late=True)
def evaluate_all_rules() -> str:
    """Periodic evaluation: absence rules, and conditions that clear while no data arrives."""
    ids = list(AlertRule.objects.filter(enabled=True).values_list("id", flat=True))
    for rule_id in ids:
        evaluate_rule.delay(rule_id)
    return f"queued {len(ids)} rule(s)"


@shared_task(acks_late=True)
def refresh_muting(team_id: int) -> str:
    return f"{muting.muting_refresh_team(team_id=team_id)} alert(s) changed"


@shared_task(acks_late=True)
def alert_housekeeping() -> str:
    """Silence expiry, maintenance windows, auto-resolve, acknowledgement timeouts, flapping."""
    return str(housekeeping.run(now=timezone.now()))


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
