"""What users expect of the paging loop (Alertmanager, PagerDuty and Grafana OnCall behave so):
re-fire after a manual resolve, snooze, every firing alert in an open incident, paging status
with its reason, the service from labels, deactivated people never paged."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
import time_machine
from django.utils import timezone

from alerts.evaluators.forecast_breach import ForecastBreachEvaluator
from alerts.models import Alert, Incident
from alerts.services.alerts import alert_resolve
from alerts.services.housekeeping import run as housekeeping
from alerts.services.incidents import incident_resolve
from alerts.services.rules import rule_evaluate
from alerts.services.snooze import SnoozeError, alert_snooze, incident_snooze
from metrics.models import Series
from paging.console import open_alert_groups, service_health
from paging.models import (
    ContactMethod,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationRoute,
    Notification,
    NotificationRule,
)
from paging.selectors import paging_status
from paging.services.escalation import escalations_audit
from tests.alerts.factories import ingest, now_s, raise_alert, rule, service

pytestmark = pytest.mark.usefixtures("storage_clean")


@pytest.fixture
def paged_policy(team, alice):
    alice.email = "alice@example.com"
    alice.save()
    policy = EscalationPolicy.objects.create(team=team, name="primary")
    level = EscalationLevel.objects.create(policy=policy, position=1, wait=td(minutes=5))
    level.users.add(alice)
    EscalationRoute.objects.create(team=team, policy=policy, is_default=True)
    return policy


def breaching(team):
    """A threshold rule over cpu and a series breaching it: its alert is firing."""
    r = rule(team, critical_threshold=50, aggregation="last")
    ingest(team, "cpu", {"host": "a"}, [[now_s(), 95.0]])
    return r, Alert.objects.get()


def test_an_alert_resolved_by_hand_while_breaching_fires_again(team):
    _, alert = breaching(team)
    first_incident = alert.incident
    alert_resolve(alert=alert, by=None, reason="resolved by hand")
    assert Incident.objects.get(pk=first_incident.pk).status == "resolved"
    ingest(team, "cpu", {"host": "a"}, [[now_s() + 5, 96.0]])  # still breaching: the next evaluation
    again = Alert.objects.get(status="firing")
    assert again.incident.status == "triggered"
    kinds = list(again.events.values_list("kind", flat=True))
    assert kinds.count("reopened") == 1
    assert Escalation.objects.filter(incident=again.incident, state="active").exists()


def test_the_periodic_evaluation_also_refires(team):
    r, alert = breaching(team)
    alert_resolve(alert=alert, by=None)
    rule_evaluate(rule=r)
    assert Alert.objects.filter(status="firing").count() == 1


def test_a_snoozed_alert_stays_quiet_until_the_snooze_ends(team):
    r, alert = breaching(team)
    alert_snooze(alert=alert, by=None, duration="30m")
    alert.refresh_from_db()
    assert (alert.status, alert.muted) == ("firing", "snoozed")
    escalation = Escalation.objects.filter(incident=alert.incident).first()
    assert escalation.state == "paused"
    assert paging_status(incident=alert.incident).state == "paused"
    rule_evaluate(rule=r)  # still breaching, snoozed: nothing new
    assert Alert.objects.count() == 1
    with time_machine.travel(timezone.now() + td(minutes=31)):
        housekeeping(now=timezone.now())
    alert.refresh_from_db()
    assert alert.muted == ""
    assert Escalation.objects.filter(incident=alert.incident, state="active").count() == 1  # paging again


def test_snooze_until_it_clears_ends_with_the_alert(team):
    _, alert = breaching(team)
    alert_snooze(alert=alert, by=None, duration="until_clear")
    ingest(team, "cpu", {"host": "a"}, [[now_s() + 5, 10.0]])
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert not alert.snoozed_until_clear


def test_snooze_refuses_unknown_durations_and_closed_alerts(team):
    alert = raise_alert(team)
    with pytest.raises(SnoozeError, match="duration must be one of"):
        alert_snooze(alert=alert, by=None, duration="forever")
    alert_resolve(alert=alert, by=None)
    with pytest.raises(SnoozeError, match="only open alerts"):
        alert_snooze(alert=alert, by=None, duration="1h")


def test_a_refired_alert_whose_incident_was_resolved_goes_to_an_open_incident(team):
    alert = raise_alert(team)
    incident_resolve(incident=alert.incident, by=None)
    with time_machine.travel(timezone.now() + td(hours=2)):  # beyond the group window: a new incident
        again = raise_alert(team)
    assert again.pk == alert.pk or again.status == "firing"
    assert again.incident.status == "triggered"
    assert again.incident_id != alert.incident_id


def test_no_route_is_shown_as_the_reason(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_alert(team)
    status = paging_status(incident=alert.incident)
    assert (status.state, status.problem) == ("unrouted", True)
    assert "no route matches" in status.reason


def test_nobody_reachable_is_shown_with_the_person(team, alice, paged_policy, django_capture_on_commit_callbacks):
    alice.email = ""
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_alert(team)
    status = paging_status(incident=alert.incident)
    assert status.state == "paging"
    assert status.reason == "nobody reachable at level 1: alice has no contact method"


def test_a_deactivated_person_is_not_paged(team, alice, paged_policy, django_capture_on_commit_callbacks):
    method = ContactMethod.objects.create(user=alice, kind="email", address="alice@example.com")
    NotificationRule.objects.create(user=alice, urgency="high", contact_method=method)
    alice.is_active = False
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_alert(team)
    assert not Notification.objects.exists()
    assert "alice is deactivated" in paging_status(incident=alert.incident).reason


def test_incident_snooze_pauses_and_a_new_trigger_after_it_pages(team):
    alert = raise_alert(team)
    assert incident_snooze(incident=alert.incident, by=None, duration="1h") == 1
    assert Escalation.objects.get(incident=alert.incident).state == "paused"


def test_the_service_comes_from_the_service_label(team):
    checkout = service(team, "checkout")
    alert = raise_alert(team, labels={"alertname": "Cpu", "service": "checkout"}, severity="high")
    assert alert.service == checkout
    assert alert.incident.service == checkout
    health = {
        h.service.slug: h for h in service_health(team_ids=[team.id], groups=open_alert_groups(team_ids=[team.id]))
    }
    assert (health["checkout"].worst, health["checkout"].open_alerts) == ("high", 1)


def test_forecast_breach_says_breached_when_already_past_the_threshold(team):
    evaluator = ForecastBreachEvaluator()
    r = rule(team, kind="forecast_breach", critical_threshold=80, comparator="gt")
    ingest(team, "cpu", {"host": "a"}, [[now_s(), 85.0]])
    series = Series.objects.get()

    class Risk:
        eta, expected, model = timezone.now(), 85.0, "theta"

    evaluator._risks[series.id], evaluator._latest[series.id] = Risk(), 85.0
    summary = evaluator.explain(r, series, 1.0, timezone.now())["summary"]
    assert "is above 80 now (value 85): breached" in summary
    assert "in about 0 min" not in summary


def test_the_auditor_starts_paging_for_an_incident_that_never_got_an_episode(team):
    alert = raise_alert(team)
    Escalation.objects.filter(incident=alert.incident).delete()  # a lost commit hook
    assert escalations_audit()["started"] == 1
    assert Escalation.objects.filter(incident=alert.incident).exists()
