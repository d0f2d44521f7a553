"""core/api.py TeamOwnedSerializer, through two of the serializers built on it: a value the team
already uses is a 400 naming the field (other teams may use it), and related choices are the
team's own rows."""

from __future__ import annotations

from catalog.models import Service
from tests.alerts.factories import service

ALL_SCOPES = ("ingest", "read", "write", "admin")
RULE = {"name": "CPU high", "metric": "cpu", "kind": "threshold", "critical_threshold": 90, "window": "00:05:00"}


def test_a_slug_the_team_already_uses_is_a_400_naming_the_field(token_client, team):
    service(team, slug="checkout")
    response = token_client(ALL_SCOPES).post("/api/v1/services", {"name": "Again", "slug": "checkout"}, format="json")
    assert response.status_code == 400
    assert response.json()["slug"] == ["your team already has a service with this slug"]
    assert Service.objects.filter(team=team).count() == 1


def test_another_team_may_use_the_same_slug(token_client, team, other_team):
    service(team, slug="checkout")
    client = token_client(ALL_SCOPES, for_team=other_team)
    response = client.post("/api/v1/services", {"name": "Checkout", "slug": "checkout"}, format="json")
    assert response.status_code == 201, response.content
    assert Service.objects.filter(slug="checkout").count() == 2


def test_an_object_keeps_its_own_slug_when_edited(token_client, team):
    search = service(team, slug="search")
    body = {"name": "Search v2", "slug": "search"}
    response = token_client(ALL_SCOPES).put(f"/api/v1/services/{search.uid}", body, format="json")
    assert response.status_code == 200, response.content
    search.refresh_from_db()
    assert search.name == "Search v2"


def test_a_related_choice_of_another_team_is_refused(token_client, team, other_team):
    service(other_team, slug="foreign")
    client = token_client(ALL_SCOPES)
    refused = client.post("/api/v1/rules", {**RULE, "service": "foreign"}, format="json")
    assert refused.status_code == 400
    assert "service" in refused.json()
    service(team, slug="own")
    accepted = client.post("/api/v1/rules", {**RULE, "service": "own"}, format="json")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["service"] == "own"
