"""Burn-rate alerts: timing with frozen time, tier inhibition (one page per SLO), tier changes,
low-traffic protection, and the trip through alert → incident → escalation."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
import pytest
import time_machine

from alerts.models import Alert, Incident
from alerts.tasks import evaluate_all_rules  # noqa: F401  (tasks registered, as in a worker
from paging.models import EscalationLevel, EscalationPolicy, EscalationRoute
from slo.models import SLO
from slo.services import slos_evaluate
from tests.alerts.factories import service
from tests.slo.slo_factories import cumulative, minutes_between, series, slo, write_minutes

pytestmark = pytest.mark.usefixtures("storage_clean")

START = datetime(2026, 3, 7, tzinfo=UTC)
BAD_FROM = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # every request fails from here …
BAD_UNTIL = datetime(2026, 3, 10, 11, 40, tzinfo=UTC)  # … until here
DATA_END = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def outage(team, requests_per_minute: float = 100.0):
    n = minutes_between(START, DATA_END)
    bad = np.zeros(n)
    bad[minutes_between(START, BAD_FROM) : minutes_between(START, BAD_UNTIL)] = requests_per_minute
    write_minutes(series(team, "http_requests_total"), START, cumulative(np.full(n, requests_per_minute)))
    write_minutes(series(team, "http_errors_total"), START, cumulative(bad))


def open_alerts(kind: str | None = None):
    qs = Alert.objects.filter(source="slo", status__in=["firing", "acknowledged"])
    return qs.filter(labels__slo_alert=kind) if kind else qs


def test_a_page_fires_within_one_evaluation_interval_and_pages_once(team, django_capture_on_commit_callbacks):
    checkout = service(team)
    policy = EscalationPolicy.objects.create(team=team, name="default")
    EscalationLevel.objects.create(policy=policy, position=1, wait=td(minutes=5))
    EscalationRoute.objects.create(team=team, policy=policy, is_default=True)

    def evaluate():
        with django_capture_on_commit_callbacks(execute=True):
            slos_evaluate()

    outage(team)
    objective = slo(team, service=checkout)
    # The first bad minute (11:00) counts once it has settled: at 11:02 (settle delay 60 s).
    condition_true = BAD_FROM + td(minutes=2)
    with time_machine.travel(BAD_FROM - td(minutes=5), tick=False) as clock:
        fired_at = None
        for _ in range(40):
            evaluate()
            if open_alerts().exists():
                fired_at = datetime.now(UTC)
                break
            clock.shift(td(seconds=30))
        assert condition_true <= fired_at < condition_true + td(seconds=30)
        alert = open_alerts().get()
        assert alert.labels == {
            "alertname": "SLOBurnRate",
            "slo": objective.name,
            "slo_alert": "page",
            "service": "checkout",
        }
        assert alert.severity == "critical"
        assert alert.annotations["tier"] == "page_fast"
        assert alert.annotations["slo"] == str(objective.uid)
        assert {"budget_remaining", "exhaustion", "budget_remaining_minutes"} <= set(alert.annotations)
        assert "Budget left" in alert.description
        assert alert.incident is not None
        assert alert.incident.escalations.count() == 1

        # 40 bad minutes trip every tier; the SLO still has one alert, one incident, one page.
        clock.move_to(BAD_UNTIL + td(minutes=1, seconds=30))
        evaluate()
        objective.refresh_from_db()
        assert objective.page_tier == "page_fast"
        assert objective.ticket_tier == ""  # tripped, but inhibited by the page
        assert Alert.objects.filter(source="slo").count() == 1
        assert Incident.objects.count() == 1
        assert alert.incident.escalations.count() == 1
        assert [e.kind for e in alert.events.all()].count("firing") == 1

        # Errors stop: the 5-minute window clears, the slower page tier holds the same alert.
        clock.move_to(BAD_UNTIL + td(minutes=8))
        evaluate()
        alert.refresh_from_db()
        assert alert.status == "firing"
        assert alert.annotations["tier"] == "page_slow"

        # The 30-minute window clears: the page resolves and the ticket, no longer inhibited, opens.
        clock.move_to(BAD_UNTIL + td(minutes=33))
        evaluate()
        alert.refresh_from_db()
        assert alert.status == "resolved"
        ticket = open_alerts("ticket").get()
        assert ticket.severity == "medium"
        assert ticket.annotations["tier"] == "ticket_fast"


@time_machine.travel(BAD_FROM + td(minutes=10), tick=False)
def test_low_traffic_protection(team):
    """A request every 5 minutes (864 in 3 days), all failing for 10 minutes: the burn rates are
    huge, but no long window reaches 1,000 events."""
    outage(team, requests_per_minute=0.2)
    slo(team, min_events=1000)
    slos_evaluate()
    assert not open_alerts().exists()
    SLO.objects.update(min_events=1)
    slos_evaluate()
    assert open_alerts("page").exists()


@time_machine.travel(BAD_FROM + td(minutes=10), tick=False)
def test_disabled_tiers_and_alerting(team):
    outage(team)
    objective = slo(team, page_fast_enabled=False, page_slow_enabled=False, ticket_fast_severity="high")
    slos_evaluate()
    assert not open_alerts("page").exists()
    assert open_alerts("ticket").get().severity == "high"
    objective.alerting = False
    objective.save()
    slos_evaluate()
    assert not open_alerts().exists()


@time_machine.travel(BAD_FROM + td(minutes=10), tick=False)
def test_beat_task_evaluates(team):
    from slo.tasks import evaluate_slos

    outage(team)
    slo(team)
    assert "1 transition(s)" in evaluate_slos.delay().get()
    assert open_alerts("page").exists()
