"""Roles: viewers read, responders act on alerts and incidents, managers change configuration,
admins do everything. A member whose role is too low gets a 403 that says what is needed."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from alerts.models import AlertRule
from core.teams.models import Membership
from core.teams.selectors import team_ids_for_user
from tests.alerts.factories import raise_alert, rule


def member(django_user_model, team, role: str) -> APIClient:
    user = django_user_model.objects.create_user(role, password="pw-" + role + "-1234")
    Membership.objects.create(team=team, user=user, role=role)
    client = APIClient()
    client.force_login(user)
    return client


RULE = {
    "name": "Disk",
    "kind": "threshold",
    "metric": "disk",
    "critical_threshold": 90,
    "window": "00:05:00",
    "aggregation": "avg",
}


@pytest.fixture
def alert(team):
    return raise_alert(team)


def test_a_viewer_reads_but_cannot_act(django_user_model, team, alert):
    client = member(django_user_model, team, "viewer")
    assert client.get(f"/api/v1/alerts/{alert.uid}").status_code == 200
    response = client.post(f"/api/v1/alerts/{alert.uid}/acknowledge")
    assert response.status_code == 403
    assert (
        response.json()["detail"]
        == "your role in this team is viewer; acting on alerts and incidents needs responder or above"
    )
    assert client.post(f"/api/v1/incidents/{alert.incident.uid}/acknowledge").status_code == 403
    alert.refresh_from_db()
    assert alert.status == "firing"


def test_a_responder_acts_but_cannot_configure(django_user_model, team, alert):
    client = member(django_user_model, team, "responder")
    assert client.post(f"/api/v1/alerts/{alert.uid}/acknowledge").status_code == 200
    assert client.post(f"/api/v1/alerts/{alert.uid}/note", {"text": "looking"}, format="json").status_code == 200
    response = client.post("/api/v1/rules", RULE, format="json")
    assert response.status_code == 403  # no team in which the responder may configure: say why
    detail = "your role in this team is responder; changing configuration needs manager or above"
    assert response.json()["detail"] == detail
    existing = rule(team)
    response = client.patch(f"/api/v1/rules/{existing.uid}", {"critical_threshold": 1}, format="json")
    assert response.status_code == 403
    assert "changing configuration needs manager or above" in response.json()["detail"]
    assert client.delete(f"/api/v1/rules/{existing.uid}").status_code == 403
    assert AlertRule.objects.get(pk=existing.pk).critical_threshold == 90.0


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_configure(django_user_model, team, role):
    client = member(django_user_model, team, role)
    response = client.post("/api/v1/rules", RULE, format="json")
    assert response.status_code == 201, response.content


def test_tokens_configure_with_the_write_scope(team, token_client):
    assert token_client(("read",)).post("/api/v1/rules", RULE, format="json").status_code == 403
    assert token_client(("read", "write")).post("/api/v1/rules", RULE, format="json").status_code == 201


def test_roles_rank(django_user_model, team, other_team):
    user = django_user_model.objects.create_user("mixed")
    Membership.objects.create(team=team, user=user, role="viewer")
    Membership.objects.create(team=other_team, user=user, role="manager")
    assert sorted(team_ids_for_user(user=user)) == sorted([team.id, other_team.id])
    assert team_ids_for_user(user=user, min_role="responder") == [other_team.id]
    assert team_ids_for_user(user=user, min_role="admin") == []
