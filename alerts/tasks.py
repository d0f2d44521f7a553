from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from alerts.models import AlertRule
from alerts.services import housekeeping, muting, rules


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
