"""Alerts, incidents, rules and silences over the API, with the alice/bob/charlie personas."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.models import Alert, AlertRule, Silence
from tests.alerts.factories import ingest, now_s, raise_alert, service


def login(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def alerts(team):
    checkout = service(team)
    return [
        raise_alert(team, labels={"alertname": "CPU", "host": "a"}, severity="critical", service_id=checkout.id),
        raise_alert(team, labels={"alertname": "Disk", "host": "b"}, severity="low", summary="disk slow"),
    ]


def test_list_filters(alice, alerts):
    client = login(alice)
    assert client.get("/api/v1/alerts").json()["count"] == 2
    assert client.get("/api/v1/alerts?severity=critical").json()["count"] == 1
    assert client.get("/api/v1/alerts?service=checkout").json()["count"] == 1
    assert client.get("/api/v1/alerts?q=slow").json()["results"][0]["summary"] == "disk slow"
    assert client.get("/api/v1/alerts?status=resolved").json()["count"] == 0
    assert client.get("/api/v1/alerts?status=open").json()["count"] == 2


def test_detail_has_the_timeline(alice, alerts):
    body = login(alice).get(f"/api/v1/alerts/{alerts[0].uid}").json()
    assert [e["kind"] for e in body["timeline"]] == ["firing", "grouped"]
    assert body["incident"] == str(alerts[0].incident.uid)


def test_actions(alice, alerts):
    client = login(alice)
    url = f"/api/v1/alerts/{alerts[0].uid}"
    assert client.post(f"{url}/acknowledge").json()["status"] == "acknowledged"
    assert client.post(f"{url}/acknowledge").status_code == 409
    assert client.post(f"{url}/note", {"text": "on it"}, format="json").status_code == 200
    assert client.post(f"{url}/note", {}, format="json").json() == {"text": ["This field is required."]}
    assert client.post(f"{url}/assign", {"assignee": "alice"}, format="json").json()["assignee"] == "alice"
    assert client.post(f"{url}/resolve").json()["status"] == "resolved"
    timeline = [e["kind"] for e in client.get(url).json()["timeline"]]
    assert timeline[-4:] == ["acknowledged", "note", "assigned", "resolved"]
    assert client.get(url).json()["timeline"][-1]["actor"] == "alice"


def test_silence_from_an_alert(alice, alerts):
    client = login(alice)
    response = client.post(
        f"/api/v1/alerts/{alerts[1].uid}/silence",
        {"duration_minutes": 60, "comment": "known", "expire_on_resolve": True},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["display_status"] == "silenced"
    silence = Silence.objects.get()
    assert silence.matchers == [
        {"name": "alertname", "op": "=", "value": "Disk"},
        {"name": "host", "op": "=", "value": "b"},
    ]


def test_bulk_acknowledge(alice, alerts):
    client = login(alice)
    response = client.post(
        "/api/v1/alerts/bulk", {"action": "acknowledge", "ids": [str(a.uid) for a in alerts]}, format="json"
    )
    assert len(response.json()["done"]) == 2
    assert set(Alert.objects.values_list("status", flat=True)) == {"acknowledged"}
    again = client.post("/api/v1/alerts/bulk", {"action": "acknowledge", "ids": [str(alerts[0].uid)]}, format="json")
    assert again.json()["skipped"][0]["error"].startswith("alert is acknowledged")


def test_bulk_with_an_unknown_id_changes_nothing(alice, alerts):
    response = login(alice).post(
        "/api/v1/alerts/bulk",
        {"action": "resolve", "ids": [str(alerts[0].uid), "00000000-0000-0000-0000-000000000000"]},
        format="json",
    )
    assert response.status_code == 400
    assert "ids" in response.json()
    assert not Alert.objects.filter(status="resolved").exists()


def test_incident_api(alice, alerts):
    client = login(alice)
    incidents = client.get("/api/v1/incidents?status=open").json()["results"]
    assert len(incidents) == 2
    uid = str(alerts[0].incident.uid)
    assert client.post(f"/api/v1/incidents/{uid}/acknowledge").json()["status"] == "acknowledged"
    patched = client.patch(f"/api/v1/incidents/{uid}", {"priority_override": 1, "root_cause": "x"}, format="json")
    assert patched.json()["priority"] == 1
    assert client.patch(f"/api/v1/incidents/{uid}", {"priority_override": 9}, format="json").status_code == 400
    other = str(alerts[1].incident.uid)
    merged = client.post(f"/api/v1/incidents/{uid}/merge", {"incidents": [other]}, format="json").json()
    assert len(merged["alerts"]) == 2
    resolved = client.post(f"/api/v1/incidents/{uid}/resolve", {"note": "done"}, format="json").json()
    assert resolved["status"] == "resolved"
    assert resolved["resolution_note"] == "done"


def test_rules_crud_and_backtest(alice, team, storage_clean):
    client = login(alice)
    body = {
        "name": "CPU high",
        "metric": "cpu",
        "kind": "threshold",
        "critical_threshold": 90,
        "aggregation": "last",
        "window": "00:05:00",
        "matchers": [{"name": "host", "op": "=~", "value": "a.*"}],
    }
    created = client.post("/api/v1/rules", body, format="json")
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert AlertRule.objects.get().team == team
    bad = client.post("/api/v1/rules", {**body, "critical_threshold": None}, format="json")
    assert bad.status_code == 400
    assert "critical_threshold" in bad.json()
    bad = client.post("/api/v1/rules", {**body, "matchers": [{"name": "h", "op": "~~", "value": "x"}]}, format="json")
    assert "matchers" in bad.json()
    t = now_s() // 60 * 60
    ingest(team, "cpu", {"host": "a"}, [[t - 600 + 60 * i, 95.0 if i == 3 else 10.0] for i in range(10)])
    result = client.get(f"/api/v1/rules/{rule_id}/backtest?days=1").json()
    assert result["count"] == 1
    assert result["firings"][0]["duration_s"] == 60.0
    assert client.get(f"/api/v1/rules/{rule_id}/backtest?days=99").status_code == 400


def test_silences_api(alice):
    client = login(alice)
    body = {
        "matchers": [{"name": "service", "value": "checkout"}],
        "ends_at": (timezone.now() + td(days=2)).isoformat(),  # was 2099: ends are bounded now
        "comment": "migration",
    }
    created = client.post("/api/v1/silences", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["active"] is True
    assert client.delete(f"/api/v1/silences/{created.json()['id']}").status_code == 204
    assert Silence.objects.get().expired_at is not None  # expired, kept for the record
    bad = client.post("/api/v1/silences", {**body, "ends_at": "2000-01-01T00:00:00Z"}, format="json")
    assert "ends_at" in bad.json()


def test_a_silence_until_9999_is_refused_naming_the_limit(alice, settings):
    settings.HIVEOPS_SILENCE_MAX_DAYS = 90
    body = {"matchers": [{"name": "service", "value": "checkout"}], "ends_at": "9999-12-31T00:00:00Z", "comment": "x"}
    response = login(alice).post("/api/v1/silences", body, format="json")
    assert response.status_code == 400
    assert "at most 90 days" in str(response.json()["ends_at"])
    body["ends_at"] = (timezone.now() + td(days=89)).isoformat()
    assert login(alice).post("/api/v1/silences", body, format="json").status_code == 201
    assert Silence.objects.count() == 1


@pytest.mark.parametrize(
    "matchers",
    [
        [{"name": "alertname", "op": "=~", "value": ".*"}],
        [{"name": "env", "op": "!=", "value": "dev"}, {"name": "team", "op": "=", "value": ""}],
    ],
)
def test_a_team_wide_silence_needs_confirmation(alice, alerts, matchers):
    client = login(alice)
    ends_at = (timezone.now() + td(hours=1)).isoformat()
    body = {"matchers": matchers, "ends_at": ends_at, "comment": "maintenance"}
    refused = client.post("/api/v1/silences", body, format="json")
    assert refused.status_code == 400
    assert "confirm_team_wide" in refused.json()
    assert not Silence.objects.exists()
    created = client.post("/api/v1/silences", {**body, "confirm_team_wide": True}, format="json")
    assert created.status_code == 201, created.content
    assert "confirm_team_wide" not in created.json()
    assert {a.muted for a in Alert.objects.all()} == {"silenced"}


def test_no_matchers_is_refused_naming_both_fields(alice):
    body = {"matchers": [], "ends_at": (timezone.now() + td(hours=1)).isoformat(), "comment": "x"}
    response = login(alice).post("/api/v1/silences", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"matchers", "confirm_team_wide"}


def test_a_silence_from_an_alert_with_match_all_matchers_needs_confirmation(alice, alerts):
    url = f"/api/v1/alerts/{alerts[1].uid}/silence"
    body = {"duration_minutes": 60, "comment": "all", "matchers": [{"name": "host", "op": "=~", "value": ".*"}]}
    refused = login(alice).post(url, body, format="json")
    assert refused.status_code == 400
    assert "confirm_team_wide" in refused.json()
    assert login(alice).post(url, {**body, "confirm_team_wide": True}, format="json").status_code == 201


class TestPersonas:
    @pytest.mark.parametrize("persona", ["bob", "charlie"])
    def test_others_see_and_touch_nothing(self, request, persona, alerts):
        client = login(request.getfixturevalue(persona))
        assert client.get("/api/v1/alerts").json()["count"] == 0
        assert client.get("/api/v1/incidents").json()["count"] == 0
        assert client.get(f"/api/v1/alerts/{alerts[0].uid}").status_code == 404
        assert client.post(f"/api/v1/alerts/{alerts[0].uid}/acknowledge").status_code == 404
        assert client.post(f"/api/v1/incidents/{alerts[0].incident.uid}/resolve").status_code == 404

    def test_tokens_need_the_write_scope_to_act(self, token_client, alerts):
        reader = token_client(scopes=("read",))
        assert reader.get("/api/v1/alerts").json()["count"] == 2
        assert reader.post(f"/api/v1/alerts/{alerts[0].uid}/acknowledge").status_code == 403
        writer = token_client(scopes=("read", "write"))
        acked = writer.post(f"/api/v1/alerts/{alerts[0].uid}/acknowledge")
        assert acked.status_code == 200
        assert acked.json()["timeline"][-1]["actor"] == "token test"

    def test_anonymous_is_401(self, alerts):
        assert APIClient().get("/api/v1/alerts").status_code == 401
