"""The recommendations feed: one item per source, impact estimates, accept/dismiss with audit
rows, dismissed items coming back when their evidence changes, leads only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from datetime import timedelta as td
from decimal import Decimal

import numpy as np
import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from capacity.models import Analysis, Resource
from core.audit.models import AuditEvent
from core.teams.services import membership_ensure
from paging.models import EscalationLevel, EscalationPolicy, EscalationRoute, OnCallRotation, RotationMember
from recommendations import impact
from recommendations.models import Decision
from recommendations.selectors import feed, summary
from slo.models import SLO
from slo.services import slos_evaluate
from tests.alerts.factories import rule, service
from tests.recommendations.quality.factories import alert, page
from tests.slo.slo_factories import minutes_between, series, slo, write_minutes

pytestmark = pytest.mark.usefixtures("storage_clean")
NOW = datetime(2026, 3, 10, 12, 1, tzinfo=UTC)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def sources(team, alice):
    # capacity: scale db1 down, saving 100 USD a month
    db = Resource.objects.create(team=team, name="db1", kind="disk", scope="host", allocation=4, unit_cost=50)
    Analysis.objects.create(
        resource=db, action="scale_down", new_allocation=2, monthly_cost_change=Decimal("-100.00"), reason="p95 12%"
    )
    # an SLO overspent: 2 % errors against a 99 % objective over 7 days
    start = NOW - td(days=8)
    n = minutes_between(start, NOW - td(minutes=1))
    write_minutes(series(team, "requests", code="200"), start, np.full(n, 98.0))
    write_minutes(series(team, "requests", code="500"), start, np.full(n, 2.0))
    slo(
        team,
        name="Checkout",
        total_metric="requests",
        bad_metric="",
        good_metric="requests",
        good_matchers=[{"name": "code", "op": "!~", "value": "5.."}],
        counter_type=SLO.CounterType.DELTA,
        objective=99.0,
        window=SLO.Window.D7,
    )
    with time_machine.travel(NOW, tick=False):
        slos_evaluate()
    # a forecast breach alert, open
    predicted = rule(team, name="Disk full soon", kind="forecast_breach")
    alert(team, at=NOW - td(hours=1), rule=predicted, summary="disk full in 3 days")
    # a noisy rule: 10 alerts in a day, resolved by the system, 4 pages
    cpu = rule(team, name="CPU")
    spikes = [alert(team, at=NOW - td(hours=h), rule=cpu, resolve_after=td(minutes=2)) for h in range(1, 11)]
    for a in spikes[:4]:
        page(team, [a], at=a.fired_at, user=alice)
    # checkout has a route; billing has none and there is no catch-all route
    checkout, billing = service(team), service(team, slug="billing")
    policy = EscalationPolicy.objects.create(team=team, name="Primary")
    EscalationRoute.objects.create(team=team, policy=policy, service=checkout)
    # the policy's rotation has nobody before 15 March: gaps in the next 14 days
    rotation = OnCallRotation.objects.create(
        team=team, name="night", length="daily", handoff_time=time(9), start_date=date(2026, 3, 15)
    )
    RotationMember.objects.create(rotation=rotation, user=alice)
    EscalationLevel.objects.create(policy=policy, position=1, rotation=rotation)
    return {"resource": db, "billing": billing, "cpu": cpu}


def by_kind(items) -> dict:
    return {i.kind: i for i in items}


@time_machine.travel(NOW, tick=False)
def test_one_item_per_source_with_impact(team, sources):
    items = by_kind(feed(team_ids=[team.id]))
    assert set(items) == {
        "capacity",
        "slo_at_risk",
        "forecast_breach",
        "noisy_rule",
        "unowned_service",
        "coverage_gap",
    }
    assert items["capacity"].money_per_month == Decimal("100.00")
    assert items["capacity"].title == "Scale down db1 to 2"
    assert items["slo_at_risk"].evidence.startswith("-100% of the error budget left")
    # 7 days used 2× the budget (100.8 minutes of 1 % over 7 days): overspent by one budget
    assert items["slo_at_risk"].downtime_minutes == pytest.approx(100.8, abs=0.2)
    assert items["forecast_breach"].title == "Act before the predicted breach: disk full in 3 days"
    assert items["noisy_rule"].pages_avoided == 4.0  # all auto-resolved, no backtest cached
    assert items["unowned_service"].key == f"unowned:{sources['billing'].uid}"
    assert "nobody on call" in items["coverage_gap"].evidence
    assert items["coverage_gap"].evidence.startswith("117 hours")  # 10 March 12:00 → 15 March 09:00
    found = summary([team.id])
    assert found == {"count": 6, "monthly_savings": {"USD": Decimal("100.00")}, "pages_avoided": 5.0}


@time_machine.travel(NOW, tick=False)
def test_a_catch_all_route_owns_every_service(team, sources):
    policy = EscalationPolicy.objects.get()
    EscalationRoute.objects.create(team=team, policy=policy, is_default=True)
    assert "unowned_service" not in by_kind(feed(team_ids=[team.id]))


@time_machine.travel(NOW, tick=False)
def test_accept_and_dismiss_are_stored_and_audited(team, alice, sources):
    client = api(alice)
    body = client.get("/api/v1/recommendations").json()
    assert body["summary"]["count"] == 6
    keys = {i["kind"]: i["key"] for i in body["results"]}
    response = client.post(f"/api/v1/recommendations/{keys['capacity']}/accept")
    assert response.status_code == 200
    assert response.json()["decision"] == "accepted"
    assert client.post(f"/api/v1/recommendations/{keys['unowned_service']}/dismiss").status_code == 200
    rows = {d.kind: d for d in Decision.objects.all()}
    assert (rows["capacity"].decision, rows["capacity"].by) == ("accepted", alice)
    assert rows["unowned_service"].decision == "dismissed"
    audits = AuditEvent.objects.filter(action__startswith="recommendation.")
    assert sorted(audits.values_list("action", "actor_name", "team_id")) == [
        ("recommendation.accepted", "alice", team.id),
        ("recommendation.dismissed", "alice", team.id),
    ]
    body = client.get("/api/v1/recommendations").json()
    kinds = [i["kind"] for i in body["results"]]
    assert "unowned_service" not in kinds  # dismissed: hidden
    assert kinds[-1] == "capacity"  # accepted: shown last
    assert body["summary"]["count"] == 4
    assert client.post("/api/v1/recommendations/capacity:nope:1/accept").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_a_dismissed_item_returns_when_its_evidence_changes(team, alice, sources):
    [item] = [i for i in feed(team_ids=[team.id]) if i.kind == "capacity"]
    assert api(alice).post(f"/api/v1/recommendations/{item.key}/dismiss").status_code == 200
    assert "capacity" not in by_kind(feed(team_ids=[team.id]))
    Analysis.objects.filter(resource=sources["resource"]).update(monthly_cost_change=Decimal("-110.00"))
    assert "capacity" not in by_kind(feed(team_ids=[team.id]))  # same bucket (64–127)
    Analysis.objects.filter(resource=sources["resource"]).update(monthly_cost_change=Decimal("-400.00"))
    assert "capacity" in by_kind(feed(team_ids=[team.id]))  # four times the saving: back


@time_machine.travel(NOW, tick=False)
def test_leads_only(team, alice, bob, charlie, sources, token_client, django_user_model):
    viewer = django_user_model.objects.create_user("vera", password="pw-vera-1234")
    membership_ensure(team=team, user=viewer, role="viewer")
    [item] = [i for i in feed(team_ids=[team.id]) if i.kind == "capacity"]
    for user in (bob, charlie, viewer):
        assert api(user).get("/api/v1/recommendations").json()["results"] == []
        assert api(user).post(f"/api/v1/recommendations/{item.key}/accept").status_code == 404
    assert APIClient().get("/api/v1/recommendations").status_code in (401, 403)
    assert token_client(scopes=("read",)).get("/api/v1/recommendations").status_code == 403
    assert len(token_client(scopes=("read", "write")).get("/api/v1/recommendations").json()["results"]) == 6
    assert not Decision.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_page_lists_items_for_leads_and_accepts(team, alice, bob, charlie, sources):
    client = Client()
    client.force_login(alice)
    body = client.get("/recommendations/").content.decode()
    assert 'data-kind="capacity"' in body
    assert "saves $100.00 a month" in body
    [item] = [i for i in feed(team_ids=[team.id]) if i.kind == "capacity"]
    response = client.post(f"/recommendations/{item.key}/accepted")
    assert response.status_code == 302
    assert Decision.objects.get().decision == "accepted"
    other = Client()
    other.force_login(bob)
    body = other.get("/recommendations/").content.decode()
    assert 'data-kind="capacity"' not in body  # bob leads another team
    assert "Nothing to recommend right now." in body
    outsider = Client()
    outsider.force_login(charlie)
    assert "shown to leads" in outsider.get("/recommendations/").content.decode()


def test_buckets_and_projection():
    assert [impact.doubling_bucket(v) for v in (0, 0.5, 1, 3, 4, 100, 127, 128, -100)] == [0, 0, 1, 2, 3, 7, 7, 8, 7]
    assert [impact.quarter_bucket(f) for f in (-2, 0.1, 0.3, 0.99, 1.0)] == [-1, 0, 1, 3, 3]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    # half the window gone, half the budget used: on track, nothing overspent
    assert (
        impact.projected_overspend_minutes(
            consumed_s=600, budget_s=1200, window_start=start, as_of=start + td(days=15), window_end=start + td(days=30)
        )
        == 0.0
    )
    assert (
        impact.projected_overspend_minutes(
            consumed_s=1200,
            budget_s=1200,
            window_start=start,
            as_of=start + td(days=15),
            window_end=start + td(days=30),
        )
        == 20.0
    )
    assert impact.pages_avoided(pages=10, baseline=5, fired=1, auto_resolved=0.2) == 8.0
    assert impact.pages_avoided(pages=10, baseline=None, fired=None, auto_resolved=0.2) == 2.0
