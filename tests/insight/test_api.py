"""Insight API: incident related, root-cause and correlation analysis, change events; the owner
sees their team's data, another team's member and an outsider do not; bad input gets a 400
naming the field."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
from rest_framework.test import APIClient

from alerts.models import Incident
from alerts.services.incidents import incident_resolve
from insight.models import ChangeEvent
from insight.synthetic import make_case
from tests.alerts.factories import raise_alert, service
from tests.insight.helpers import store_case


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def stored(team, storage_clean):
    case = make_case(3000, unrelated=30, minutes=420)
    series, at = store_case(team, case, tag="api")
    return series, at


@pytest.fixture
def checkout(team):
    return service(team)


@pytest.fixture
def incident(team, stored, checkout):
    series, at = stored
    return raise_alert(
        team, labels={"alertname": "Slow"}, series_id=series[0].id, at=at, service_id=checkout.id
    ).incident


def test_related_for_the_owner_and_404_for_others(alice, bob, charlie, incident, stored):
    body = client_for(alice).get(f"/api/v1/incidents/{incident.uid}/related").json()
    assert body["analysis"]["target"]["series"] == str(stored[0][0].uid)
    assert body["analysis"]["items"][0]["series"] == str(stored[0][1].uid)
    assert body["changes"] == []
    assert body["similar"] == []
    for user in (bob, charlie):
        assert client_for(user).get(f"/api/v1/incidents/{incident.uid}/related").status_code == 404
    assert APIClient().get(f"/api/v1/incidents/{incident.uid}/related").status_code in (401, 403)


def test_rootcause_for_a_window_and_target(alice, bob, stored):
    series, at = stored
    body = {"at": at.isoformat(), "series": str(series[0].uid), "limit": 3}
    response = client_for(alice).post("/api/v1/analysis/rootcause", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["items"][0]["series"] == str(series[1].uid)
    assert len(data["items"]) == 3
    assert data["items"][0]["moved"].endswith("before")
    # bob's team has no such series: the field is named
    response = client_for(bob).post("/api/v1/analysis/rootcause", body, format="json")
    assert response.status_code == 400
    assert "series" in response.json()


def test_rootcause_by_service_without_target(alice, stored):
    series, at = stored
    body = {"at": int(at.timestamp()), "service": "svc1"}
    data = client_for(alice).post("/api/v1/analysis/rootcause", body, format="json").json()
    assert data["target"] is None
    assert data["candidates"] == len([s for s in series if s.labels["service"] == "svc1"])
    assert all(i["lag_minutes"] is None for i in data["items"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "at"),
        ({"at": "yesterday"}, "at"),
        ({"at": "2025-11-22T08:00:00"}, "at"),
        ({"at": 1763800000, "end": 1763790000}, "end"),
        ({"at": 1763800000, "start": 1763799000}, "start"),
        ({"at": 1763800000, "start": 1763000000}, "end"),
        ({"at": 1763800000, "max_lag": 0}, "max_lag"),
        ({"at": 1763800000, "limit": "many"}, "limit"),
        ({"at": 1763800000, "service": "nope"}, "service"),
        ({"at": 1763800000, "series": "not-a-uuid"}, "series"),
        ({"at": 1763800000, "candidates": [{"labels": {}}]}, "candidates[0]"),
    ],
)
def test_rootcause_rejects_bad_input_naming_the_field(alice, team, body, field):
    response = client_for(alice).post("/api/v1/analysis/rootcause", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_correlations_matrix(alice, charlie, stored):
    series, at = stored
    body = {
        "rows": [str(series[1].uid), {"metric": "synthetic_walk"}],
        "columns": [{"metric": "synthetic_target"}],
        "start": (at - td(hours=6)).isoformat(),
        "end": (at + td(minutes=30)).isoformat(),
        "max_lag": 20,
    }
    response = client_for(alice).post("/api/v1/analysis/correlations", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    walks = [s for s in series if s.metric == "synthetic_walk"]
    assert len(data["rows"]) == 1 + len(walks)
    assert len(data["correlation"]) == 1 + len(walks)
    assert data["lag_minutes"][0][0] in range(0, 8)  # B moves just before A
    assert abs(data["correlation"][0][0]) > 0.3
    response = client_for(charlie).post("/api/v1/analysis/correlations", body, format="json")
    assert response.status_code == 400
    assert "rows[0]" in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"columns": [{"metric": "x"}]}, "rows"),
        ({"rows": [], "columns": [{"metric": "x"}]}, "rows"),
        ({"rows": [{"metric": "synthetic_cause"}], "columns": [{"metric": "nothing"}]}, "columns[0]"),
        (
            {"rows": [{"metric": "synthetic_cause"}], "columns": [{"metric": "synthetic_target"}], "method": "x"},
            "method",
        ),
        ({"rows": [1], "columns": [{"metric": "synthetic_target"}]}, "rows[0]"),
        ({"rows": [{"metric": "a"}], "columns": [{"metric": "b"}], "start": 100, "end": 50}, "end"),
        ({"rows": [{"metric": "a"}], "columns": [{"metric": "b"}], "max_lag": -1}, "max_lag"),
    ],
)
def test_correlations_reject_bad_input_naming_the_field(alice, stored, body, field):
    response = client_for(alice).post("/api/v1/analysis/correlations", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_changes_api_records_and_lists_per_team(team, other_team, token_client, alice, bob):
    service(team)
    client = token_client(scopes=("read", "write"))
    body = {
        "summary": "deploy checkout v42",
        "service": "checkout",
        "source": "ci",
        "timestamp": "2025-11-22T08:00:00Z",
        "labels": {"version": "42"},
        "links": [{"href": "https://ci.example/builds/42", "text": "build"}],
    }
    response = client.post("/api/v1/changes", body, format="json")
    assert response.status_code == 201, response.content
    change = ChangeEvent.objects.get()
    assert change.service.slug == "checkout"
    assert change.at == datetime(2025, 11, 22, 8, tzinfo=UTC)
    assert change.links == [{"href": "https://ci.example/builds/42", "text": "build"}]
    listed = client_for(alice).get("/api/v1/changes?service=checkout").json()["results"]
    assert [c["summary"] for c in listed] == ["deploy checkout v42"]
    assert client_for(bob).get("/api/v1/changes").json()["results"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "summary"),
        ({"summary": "x", "service": "nope"}, "service"),
        ({"summary": "x", "timestamp": "soon"}, "timestamp"),
        ({"summary": "x", "labels": "v1"}, "labels"),
        ({"summary": "x", "links": [{"href": "ftp://x"}]}, "links"),
    ],
)
def test_changes_api_rejects_bad_bodies(team, token_client, body, field):
    response = token_client(scopes=("read", "write")).post("/api/v1/changes", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_recording_a_change_needs_the_write_scope(team, token_client):
    response = token_client(scopes=("read",)).post("/api/v1/changes", {"summary": "x"}, format="json")
    assert response.status_code == 403


@pytest.fixture
def past_incident(team, alice, checkout, stored):
    """Resolved two days before `incident` opens, with the same service and alert name."""
    past = raise_alert(
        team,
        labels={"alertname": "Slow", "host": "b"},
        service_id=checkout.id,
        summary="slow again",
        at=stored[1] - td(days=2),
    ).incident
    incident_resolve(incident=past, by=alice, note="rolled back the cache config")
    opened = stored[1] - td(days=2)
    Incident.objects.filter(id=past.id).update(
        opened_at=opened, resolved_at=opened + td(minutes=42), time_to_resolve=td(minutes=42)
    )
    return past


def test_recent_changes_and_similar_incidents_appear_in_related(alice, team, past_incident, incident):
    now = datetime.fromtimestamp(time.time(), UTC)
    ChangeEvent.objects.create(team=team, via="api", summary="flag checkout_v2 on", at=incident.opened_at - td(hours=1))
    ChangeEvent.objects.create(team=team, via="api", summary="old change", at=now - td(days=3))
    other = service(team, slug="billing")
    ChangeEvent.objects.create(team=team, via="api", summary="billing deploy", at=now - td(hours=1), service=other)
    body = client_for(alice).get(f"/api/v1/incidents/{incident.uid}/related").json()
    assert [c["summary"] for c in body["changes"]] == ["flag checkout_v2 on"]
    assert body["similar"][0]["id"] == str(past_incident.uid)
    assert body["similar"][0]["resolution_note"] == "rolled back the cache config"
    assert body["similar"][0]["time_to_resolve"] == "42 min"
    assert body["similar"][0]["shared_alerts"] == ["Slow"]
