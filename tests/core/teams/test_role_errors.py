"""A member whose role is too low gets a 403 that names the role, on pages and in the API; a
viewer cannot start a capacity analysis (security issue, item 15)."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from capacity.models import AnalysisRun
from catalog.models import Service
from core.teams.models import Membership
from core.teams.services import membership_ensure, team_get_or_create

SERVICE = {"name": "Checkout", "slug": "checkout"}


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_a_viewer_cannot_start_a_capacity_analysis(team, django_user_model):
    viewer = django_user_model.objects.create_user("vera")
    membership_ensure(team=team, user=viewer, role="viewer")
    client = Client()
    client.force_login(viewer)
    assert "Analyse now" not in client.get("/capacity/").content.decode()
    response = client.post("/capacity/analyse/")
    assert response.status_code == 403
    assert "responder" in response.content.decode()
    assert not AnalysisRun.objects.exists()
    Membership.objects.filter(user=viewer).update(role="responder")
    assert "Analyse now" in client.get("/capacity/").content.decode()
    assert client.post("/capacity/analyse/").status_code == 302


def test_a_viewer_writing_gets_a_403_naming_the_role(team, django_user_model):
    viewer = django_user_model.objects.create_user("vera")
    membership_ensure(team=team, user=viewer, role="viewer")
    response = api(viewer).post("/api/v1/services", SERVICE, format="json")
    assert response.status_code == 403
    detail = "your role in this team is viewer; changing configuration needs manager or above"
    assert response.json()["detail"] == detail
    run = api(viewer).post("/api/v1/capacity/runs", {}, format="json")
    assert run.status_code == 403
    assert "viewer" in run.json()["detail"]
    assert not Service.objects.exists()


def test_a_member_of_several_teams_is_told_every_role(team, other_team, django_user_model):
    user = django_user_model.objects.create_user("vera")
    membership_ensure(team=team, user=user, role="viewer")
    membership_ensure(team=other_team, user=user, role="responder")
    response = api(user).post("/api/v1/services", SERVICE, format="json")
    assert response.status_code == 403
    assert "viewer in ops" in response.json()["detail"]
    assert "responder in other" in response.json()["detail"]
    named = api(user).post("/api/v1/services", {**SERVICE, "team": "ops"}, format="json")
    assert named.status_code == 403
    assert "viewer" in named.json()["detail"]


def test_roles_that_may_write_still_do_and_strangers_still_get_400(team, django_user_model):
    manager = django_user_model.objects.create_user("mia")
    membership_ensure(team=team, user=manager, role="manager")
    assert api(manager).post("/api/v1/services", SERVICE, format="json").status_code == 201
    other = team_get_or_create(slug="elsewhere")[0]
    stranger = django_user_model.objects.create_user("sam")
    membership_ensure(team=other, user=stranger, role="manager")
    named = api(stranger).post("/api/v1/services", {**SERVICE, "team": "ops"}, format="json")
    assert named.status_code == 400
    assert "team" in named.json()
