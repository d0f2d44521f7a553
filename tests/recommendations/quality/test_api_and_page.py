"""GET /api/v1/quality and the noisy-rules page: tenant scoping, personas, 400s, suggestions."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.teams.services import membership_ensure
from recommendations.quality import calculations as calc
from recommendations.quality.selectors import Row
from recommendations.quality.suggestions import compute
from tests.alerts.factories import ingest, now_s, rule
from tests.recommendations.quality.factories import alert

pytestmark = pytest.mark.usefixtures("storage_clean")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def noisy(team):
    cpu = rule(team, name="CPU")
    for hours in range(1, 6):
        alert(team, at=timezone.now() - td(hours=hours), rule=cpu, resolve_after=td(minutes=2))
    return cpu


def spiky_samples(team) -> None:
    """Four hours of 1-minute data: four 2-minute spikes (92–95) and one 30-minute breach at 99."""
    t = now_s() // 60 * 60
    spikes = {20: 92.0, 60: 93.0, 100: 94.0, 140: 95.0}
    points = []
    for i in range(240):
        start = max((s for s in spikes if s <= i), default=None)
        if start is not None and i < start + 2:
            value = spikes[start]
        elif 180 <= i < 210:
            value = 99.0
        else:
            value = 40.0
        points.append([t - 14400 + 60 * i, value])
    ingest(team, "cpu", {"host": "a"}, points)


def test_the_owner_reads_their_teams_quality(alice, bob, charlie, noisy, token_client):
    body = api(alice).get("/api/v1/quality?period=7d&by=rule").json()
    assert (body["period"], body["by"]) == ("7d", "rule")
    [row] = body["results"]
    assert (row["name"], row["alerts"], row["auto_resolved"]) == ("CPU", 5, 1.0)
    assert token_client(scopes=("read",)).get("/api/v1/quality?by=team").json()["results"][0]["name"] == "Ops"
    for outsider in (bob, charlie):
        assert api(outsider).get("/api/v1/quality").json()["results"] == []
    assert APIClient().get("/api/v1/quality").status_code in (401, 403)
    assert token_client(scopes=("ingest",)).get("/api/v1/quality").status_code == 403


def test_bad_parameters_are_400s_naming_the_field(alice):
    client = api(alice)
    response = client.get("/api/v1/quality?period=12d")
    assert response.status_code == 400
    assert "period" in response.json()
    response = client.get("/api/v1/quality?by=host")
    assert response.status_code == 400
    assert "by" in response.json()


def test_a_rule_firing_on_short_spikes_gets_a_for_suggestion(team):
    spiky_samples(team)
    r = rule(team, name="CPU", critical_threshold=90, aggregation="last")
    row = Row(by="rule", id=r.id, name=r.name, team_id=team.id, quality=calc.quality_of([], [], days=1))
    found = compute(rule=r, row=row, days=1)
    assert found["baseline"] == 5
    fired = {c["change"] + str(round(c["value"], 1)): c["fired"] for c in found["candidates"]}
    assert fired["for5.0"] == 1  # only the 30-minute breach lasts 5 minutes
    assert fired["threshold94.7"] == 2  # p90 of the spike peaks; the 95 spike still crosses it
    assert found["chosen"]["label"] == "add `for` of 5 minutes"
    assert found["chosen"]["effect"] == "would have fired 1 instead of 5 times in the last 1 days"


def test_a_rule_nobody_ever_acknowledges_is_suggested_for_deletion(team):
    spiky_samples(team)
    r = rule(team, name="CPU", critical_threshold=90, aggregation="last")
    facts = [calc.AlertFacts(fired_at=timezone.now(), resolved_at=timezone.now()) for _ in range(10)]
    row = Row(by="rule", id=r.id, name=r.name, team_id=team.id, quality=calc.quality_of(facts, [], days=1))
    assert compute(rule=r, row=row, days=1)["chosen"]["change"] == "delete"


def test_leads_see_suggestions_others_read_only(team, alice, bob, django_user_model):
    cache.clear()
    spiky_samples(team)
    noisy_rule = rule(team, name="CPU", critical_threshold=90, aggregation="last")
    for hours in range(1, 6):
        alert(team, at=timezone.now() - td(hours=hours), rule=noisy_rule, resolve_after=td(minutes=2))
    alert(team, at=timezone.now(), rule=noisy_rule, ack_after=td(minutes=1))  # acknowledged once: no delete
    body = login(alice).get("/quality/?period=7d").content.decode()
    assert f'data-rule="{noisy_rule.uid}"' in body
    assert "add `for` of 5 minutes" in body
    assert "would have fired 1 instead of 5 times in the last 7 days" in body
    viewer = django_user_model.objects.create_user("vera", password="pw-vera-1234")
    membership_ensure(team=team, user=viewer, role="viewer")
    body = login(viewer).get("/quality/").content.decode()
    assert f'data-rule="{noisy_rule.uid}"' in body
    assert "add `for`" not in body
    assert f'data-rule="{noisy_rule.uid}"' not in login(bob).get("/quality/").content.decode()
    assert Client().get("/quality/").status_code == 302
