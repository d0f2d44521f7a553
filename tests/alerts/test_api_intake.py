"""Intake from Alertmanager (recorded payloads), PagerDuty Events v2 and the generic webhook."""

from __future__ import annotations

import json
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from alerts.models import Alert, Incident, Integration
from alerts.services.integrations import integration_create
from tests.alerts.factories import service
from tests.conftest import FIXTURES


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / "alertmanager" / name).read_text())


@pytest.fixture
def am_key(team):
    service(team, slug="storage", criticality=1)
    return integration_create(team=team, kind="alertmanager", name="prod alertmanager")[1]


def am_post(key, body):
    client = APIClient()
    return client.post("/api/v1/integrations/alertmanager", body, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_alertmanager_firing_then_resolved(am_key):
    response = am_post(am_key, fixture("firing.json"))
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "firing": 1, "resolved": 0}
    alert = Alert.objects.get()
    assert (alert.status, alert.severity, alert.source) == ("firing", "critical", "alertmanager")
    assert alert.summary == "Disk on db-1 predicted to fill"
    assert alert.runbook_url == "https://runbooks.example/disk"
    assert alert.service.slug == "storage"
    assert alert.generator_url.startswith("http://vm:19090/graph")
    assert Incident.objects.get().priority == 1
    # Alertmanager repeats firing notifications: still one alert.
    am_post(am_key, fixture("firing.json"))
    alert.refresh_from_db()
    assert alert.occurrences == 2
    assert am_post(am_key, fixture("resolved.json")).json()["resolved"] == 1
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert Incident.objects.get().status == "resolved"


def test_alertmanager_needs_its_key(am_key, team):
    assert am_post("wrong", fixture("firing.json")).status_code == 401
    pd_key = integration_create(team=team, kind="pagerduty", name="pd")[1]
    assert am_post(pd_key, fixture("firing.json")).status_code == 401  # a key of another kind
    assert not Alert.objects.exists()


def test_alertmanager_bad_payload_writes_nothing(am_key):
    body = fixture("firing.json")
    body["alerts"].append({"status": "exploded", "labels": {}})
    response = am_post(am_key, body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "alerts[1].status: must be firing or resolved",
        "alerts[1].labels: must be a non-empty object of strings",
    ]
    assert not Alert.objects.exists()


def test_alertmanager_tolerates_unknown_fields(am_key):
    body = fixture("firing.json")
    body["somethingNew"] = {"x": 1}
    body["alerts"][0]["newField"] = True
    assert am_post(am_key, body).status_code == 200


@pytest.fixture
def routing_key(team):
    return integration_create(team=team, kind="pagerduty", name="pd events")[1]


def pd(body):
    return APIClient().post("/api/v1/integrations/pagerduty/enqueue", body, format="json")


def trigger(routing_key, **extra):
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "payload": {"summary": "DB down", "source": "db-1", "severity": "error"},
        **extra,
    }


def test_pagerduty_trigger_acknowledge_resolve(routing_key, team):
    response = pd(trigger(routing_key, dedup_key="db-1-down"))
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": "db-1-down"}
    alert = Alert.objects.get()
    assert (alert.severity, alert.dedup_key, alert.labels["source"]) == ("high", "db-1-down", "db-1")
    assert pd(trigger(routing_key, dedup_key="db-1-down")).status_code == 202
    assert Alert.objects.count() == 1  # deduplicated
    pd({"routing_key": routing_key, "event_action": "acknowledge", "dedup_key": "db-1-down"})
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    pd({"routing_key": routing_key, "event_action": "resolve", "dedup_key": "db-1-down"})
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_pagerduty_generates_a_dedup_key(routing_key):
    key = pd(trigger(routing_key)).json()["dedup_key"]
    assert len(key) == 32
    assert Alert.objects.get().dedup_key == key


def test_pagerduty_resolve_of_an_unknown_key_is_accepted(routing_key):
    assert pd({"routing_key": routing_key, "event_action": "resolve", "dedup_key": "nope"}).status_code == 202


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"event_action": "explode"}, "'event_action' must be one of trigger, acknowledge, resolve"),
        ({"payload": {"source": "x", "severity": "error"}}, "'payload.summary' is missing or blank"),
        (
            {"payload": {"summary": "x", "source": "x", "severity": "fatal"}},
            "'payload.severity' must be one of critical, error, warning, info",
        ),
        ({"event_action": "resolve"}, "'dedup_key' is required for acknowledge and resolve events"),
        ({"routing_key": ""}, "'routing_key' is missing or blank"),
        ({"routing_key": "0" * 32}, "'routing_key' is not a known HiveOps PagerDuty integration key"),
    ],
)
def test_pagerduty_errors_are_listed(routing_key, change, error):
    response = pd({**trigger(routing_key), **change})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert error in body["errors"]
    assert not Alert.objects.exists()


def test_pagerduty_rate_limit_is_429(routing_key, settings):
    settings.HIVEOPS_PAGERDUTY_EVENTS_PER_MINUTE = 3  # counters are per integration: nothing to reset
    with time_machine.travel("2026-05-01T10:00:10Z", tick=False):  # all five inside one minute
        codes = [pd(trigger(routing_key, dedup_key=f"k{i}")).status_code for i in range(5)]
    assert codes[:3] == [202, 202, 202]
    assert 429 in codes[3:]


def test_generic_webhook(team):
    key = integration_create(team=team, kind="webhook", name="cron")[1]
    client = APIClient()
    body = {"summary": "backup failed", "severity": "medium", "labels": {"job": "backup"}, "dedup_key": "bk"}
    response = client.post("/api/v1/integrations/webhook", body, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert Alert.objects.get().severity == "medium"
    client.post(
        "/api/v1/integrations/webhook",
        {**body, "status": "resolved"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert Alert.objects.get().status == "resolved"
    bad = client.post(
        "/api/v1/integrations/webhook", {"severity": "awful"}, format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert bad.status_code == 400
    assert "summary: required string" in bad.json()["errors"]


def test_create_integration_command_prints_the_key_last(db):
    out = StringIO()
    call_command("create_integration", "--team", "sre", "--kind", "pagerduty", "--name", "pd", stdout=out)
    key = out.getvalue().split()[-1]
    assert len(key) == 32
    integration = Integration.objects.get()
    assert (integration.team.slug, integration.kind) == ("sre", "pagerduty")
    assert (
        pd(
            {
                "routing_key": key,
                "event_action": "trigger",
                "payload": {"summary": "s", "source": "s", "severity": "info"},
            }
        ).status_code
        == 202
    )


# --- only http(s) URLs become links -----------------------------------------------------------


def test_alertmanager_keeps_only_http_links(am_key):
    body = fixture("firing.json")
    body["alerts"][0]["annotations"]["runbook_url"] = "javascript:alert(document.cookie)"
    body["alerts"][0]["generatorURL"] = " JavaScript:alert(1)"
    assert am_post(am_key, body).status_code == 200
    alert = Alert.objects.get()
    assert (alert.runbook_url, alert.generator_url) == ("", "")
    assert alert.annotations["runbook_url"] == "javascript:alert(document.cookie)"  # kept as text


def test_pagerduty_links_keep_the_first_http_one(routing_key):
    links = [{"href": "javascript:alert(1)"}, {"href": "data:text/html,x"}, {"href": "https://grafana.example/d/1"}]
    assert pd(trigger(routing_key, dedup_key="a", links=links)).status_code == 202
    assert pd(trigger(routing_key, dedup_key="b", links=links[:2], client_url="javascript:x")).status_code == 202
    urls = dict(Alert.objects.values_list("dedup_key", "generator_url"))
    assert urls == {"a": "https://grafana.example/d/1", "b": ""}


# --- large payloads ---------------------------------------------------------------------------


def many(count: int, status: str = "firing") -> dict:
    """The recorded payload with `count` alerts that differ by instance (as a fleet-wide rule)."""
    body = fixture("firing.json")
    one = body["alerts"][0]
    body["alerts"] = [
        {**one, "status": status, "labels": {**one["labels"], "instance": f"db-{i}:9100"}, "fingerprint": f"{i:016x}"}
        for i in range(count)
    ]
    return body


def test_alertmanager_refuses_more_alerts_than_the_limit_with_413(am_key, settings):
    settings.HIVEOPS_ALERTMANAGER_MAX_ALERTS = 5
    response = am_post(am_key, many(6))
    assert response.status_code == 413
    body = response.json()
    assert (body["field"], body["limit"], body["count"]) == ("alerts", 5, 6)
    assert "at most 5" in body["errors"][0]
    assert not Alert.objects.exists()
    assert am_post(am_key, many(5)).json() == {"status": "ok", "firing": 5, "resolved": 0}


def test_alertmanager_payload_of_many_alerts_finds_each_service(am_key, team):
    other = service(team, slug="search", criticality=3)
    body = many(4)
    body["alerts"][3]["labels"]["service"] = "search"
    body["alerts"][2]["labels"]["service"] = "nope"
    assert am_post(am_key, body).json()["firing"] == 4
    by_instance = {a.labels["instance"]: a.service_id for a in Alert.objects.all()}
    storage = Alert.objects.get(labels__instance="db-0:9100").service_id
    assert by_instance == {"db-0:9100": storage, "db-1:9100": storage, "db-2:9100": None, "db-3:9100": other.id}
    resolved = many(4, status="resolved")
    resolved["alerts"][3]["labels"]["service"] = "search"
    resolved["alerts"][2]["labels"]["service"] = "nope"
    resolved["alerts"].append({**resolved["alerts"][0], "labels": {"alertname": "NeverSeen"}})
    assert am_post(am_key, resolved).json() == {"status": "ok", "firing": 0, "resolved": 4}
    assert set(Alert.objects.values_list("status", flat=True)) == {"resolved"}


def test_alertmanager_firing_then_resolved_in_one_payload(am_key):
    body = many(1)
    body["alerts"].append({**body["alerts"][0], "status": "resolved"})
    assert am_post(am_key, body).json() == {"status": "ok", "firing": 1, "resolved": 1}
    assert Alert.objects.get().status == "resolved"
