"""Targets named in a request belong to the object's team: escalation level teams, assignees of
alerts and incidents, the service of a route (security issue, item 2)."""

from __future__ import annotations

from rest_framework.test import APIClient

from paging.models import EscalationLevel, EscalationPolicy, EscalationRoute
from tests.alerts.factories import raise_alert, service


def login(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def level_body(**level) -> dict:
    return {"name": "p", "levels": [{"position": 1, "wait": "00:05:00", **level}]}


def test_a_level_cannot_page_another_team(alice, team, other_team):
    client = login(alice)
    refused = client.post("/api/v1/escalation-policies", level_body(teams=[other_team.slug]), format="json")
    assert refused.status_code == 400
    assert "teams" in str(refused.json())
    assert not EscalationPolicy.objects.exists()
    own = client.post("/api/v1/escalation-policies", level_body(teams=[team.slug]), format="json")
    assert own.status_code == 201, own.content
    assert list(EscalationLevel.objects.get().teams.all()) == [team]


def test_a_level_cannot_name_a_user_of_another_team(alice, bob):
    refused = login(alice).post("/api/v1/escalation-policies", level_body(users=["bob"]), format="json")
    assert refused.status_code == 400
    assert "users" in str(refused.json())


def test_a_route_cannot_use_another_teams_service(alice, team, other_team):
    client = login(alice)
    policy = EscalationPolicy.objects.create(team=team, name="p")
    theirs = service(other_team, slug="theirs")
    body = {"position": 1, "policy": policy.pk, "service": theirs.pk}
    refused = client.post("/api/v1/escalation-routes", body, format="json")
    assert refused.status_code == 400
    assert "service" in refused.json()
    assert not EscalationRoute.objects.exists()
    ours = service(team, slug="ours")
    created = client.post("/api/v1/escalation-routes", {**body, "service": ours.pk}, format="json")
    assert created.status_code == 201, created.content


def test_alerts_are_assigned_only_to_members_of_their_team(alice, bob, team, django_user_model):
    django_user_model.objects.create_superuser("root")
    alert = raise_alert(team, labels={"alertname": "CPU"})
    client = login(alice)
    url = f"/api/v1/alerts/{alert.uid}/assign"
    for name in ("root", "bob", "nobody"):
        refused = client.post(url, {"assignee": name}, format="json")
        assert refused.status_code == 400, name
        assert refused.json()["assignee"] == [f"'{name}' is not a member of this team"]
    alert.refresh_from_db()
    assert alert.assignee is None
    assert client.post(url, {"assignee": "alice"}, format="json").json()["assignee"] == "alice"
    assert client.post(url, {"assignee": None}, format="json").json()["assignee"] is None


def test_incidents_are_assigned_only_to_members_of_their_team(alice, bob, team):
    incident = raise_alert(team, labels={"alertname": "CPU"}).incident
    client = login(alice)
    url = f"/api/v1/incidents/{incident.uid}"
    refused = client.patch(url, {"assignee": "bob", "title": "renamed"}, format="json")
    assert refused.status_code == 400
    assert "assignee" in refused.json()
    incident.refresh_from_db()
    assert incident.assignee is None
    assert incident.title != "renamed"
    assert client.patch(url, {"assignee": "alice"}, format="json").json()["assignee"] == "alice"
