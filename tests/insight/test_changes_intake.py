"""PagerDuty Change Events: POST /api/v1/integrations/pagerduty/change/enqueue with a HiveOps
PagerDuty integration key as routing_key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from alerts.models import Alert, Integration
from alerts.services.integrations import integration_create
from insight.models import ChangeEvent
from tests.alerts.factories import service

URL = "/api/v1/integrations/pagerduty/change/enqueue"


@pytest.fixture
def key(team):
    return integration_create(team=team, kind=Integration.Kind.PAGERDUTY, name="pd")[1]


def change_body(key, **payload):
    return {
        "routing_key": key,
        "payload": {
            "summary": "Build Success: Increase snapshot create timeout to 30 seconds",
            "timestamp": "2025-11-22T08:00:00.000+00:00",
            "source": "acme-build-pipeline-tool-default-i-9999",
            "custom_details": {"build_state": "passed", "build_number": "2", "service": "checkout"},
            **payload,
        },
        "links": [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}],
    }


def test_a_change_event_is_recorded_for_the_integrations_team(team, key):
    checkout = service(team)
    response = APIClient().post(URL, change_body(key), format="json")
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Change event processed"}
    change = ChangeEvent.objects.get()
    assert change.team == team
    assert change.via == "pagerduty"
    assert change.service == checkout  # from custom_details.service
    assert change.at == datetime(2025, 11, 22, 8, tzinfo=UTC)
    assert change.source == "acme-build-pipeline-tool-default-i-9999"
    assert change.details["build_state"] == "passed"
    assert change.links == [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}]
    assert not Alert.objects.exists()  # a change is not an alert


def test_an_unknown_or_revoked_routing_key_is_refused(team, key):
    response = APIClient().post(URL, change_body("0" * 32), format="json")
    assert response.status_code == 400
    assert "routing_key" in response.json()["errors"][0]
    Integration.objects.update(revoked_at=datetime.now(UTC))
    assert APIClient().post(URL, change_body(key), format="json").status_code == 400
    assert not ChangeEvent.objects.exists()


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda b: b.pop("routing_key"), "routing_key"),
        (lambda b: b.pop("payload"), "payload"),
        (lambda b: b["payload"].pop("summary"), "payload.summary"),
        (lambda b: b["payload"].update(timestamp="yesterday"), "payload.timestamp"),
        (lambda b: b["payload"].update(custom_details=[1]), "payload.custom_details"),
        (lambda b: b.update(links=[{"href": "javascript:alert(1)"}]), "links[0].href"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field(team, key, mutate, error):
    body = change_body(key)
    mutate(body)
    response = APIClient().post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"
    assert any(error in e for e in response.json()["errors"])
    assert not ChangeEvent.objects.exists()


def test_malformed_json_is_refused(team, key):
    response = APIClient().post(URL, b"{not json", content_type="application/json")
    assert response.status_code == 400
