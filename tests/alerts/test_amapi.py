"""/alertmanager/api/v2/: alerts posted as Prometheus does go through the intake (dedup,
incidents), silences are HiveOps silences, errors are Alertmanager's shape."""

from __future__ import annotations

import base64
from datetime import timedelta as td

import orjson
import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Alert, Silence


def iso(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z")


@pytest.fixture
def am(make_token, team):
    tokens = {scope: make_token(team, (scope,)) for scope in ("ingest", "read", "write")}

    def call(method: str, path: str, body=None, scope: str = "read", basic: bool = False, **params):
        token = tokens[scope]
        auth = "Basic " + base64.b64encode(f"amtool:{token}".encode()).decode() if basic else f"Bearer {token}"
        client = Client(HTTP_AUTHORIZATION=auth)
        url = f"/alertmanager/api/v2/{path}"
        if body is not None:
            return getattr(client, method)(url, orjson.dumps(body), content_type="application/json")
        return getattr(client, method)(url, params)

    return call


def prometheus_alert(ends_in: td, **labels) -> dict:
    now = timezone.now()
    return {
        "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical", **labels},
        "annotations": {"summary": "disk full on db-1"},
        "startsAt": iso(now - td(minutes=1)),
        "endsAt": iso(now + ends_in),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=disk",
    }


def test_prometheus_alerts_fire_dedup_and_resolve(am, team):
    assert am("post", "alerts", [prometheus_alert(td(minutes=4))], scope="ingest").status_code == 200
    assert am("post", "alerts", [prometheus_alert(td(minutes=4))], scope="ingest").status_code == 200
    alert = Alert.objects.get(team=team)
    assert alert.status == "firing"
    assert alert.occurrences == 2
    assert alert.incident_id is not None
    listed = am("get", "alerts", filter='alertname="DiskFull"').json()
    assert [a["labels"]["instance"] for a in listed] == ["db-1"]
    assert am("get", "alerts", filter="alertname=Other").json() == []
    am("post", "alerts", [prometheus_alert(-td(seconds=1))], scope="ingest")
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_silence_life_cycle_mutes_the_alert(am, team):
    am("post", "alerts", [prometheus_alert(td(minutes=4))], scope="ingest")
    now = timezone.now()
    body = {
        "matchers": [{"name": "alertname", "value": "Disk.*", "isRegex": True, "isEqual": True}],
        "startsAt": iso(now),
        "endsAt": iso(now + td(hours=1)),
        "createdBy": "amtool",
        "comment": "maintenance",
    }
    response = am("post", "silences", body, scope="write", basic=True)
    assert response.status_code == 200, response.content
    silence_id = response.json()["silenceID"]
    assert Alert.objects.get(team=team).muted == "silenced"
    got = am("get", f"silence/{silence_id}").json()
    assert got["status"]["state"] == "active"
    assert got["matchers"] == body["matchers"]
    assert [s["id"] for s in am("get", "silences").json()] == [silence_id]
    assert am("get", "alerts").json()[0]["status"]["silencedBy"] == [silence_id]
    assert am("delete", f"silence/{silence_id}", scope="write").status_code == 200
    assert am("get", f"silence/{silence_id}").json()["status"]["state"] == "expired"
    assert Alert.objects.get(team=team).muted == ""


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"matchers": [], "endsAt": "2030-01-01T00:00:00Z", "comment": "x"}, "matchers"),
        ({"matchers": [{"name": "a", "value": "(", "isRegex": True}], "endsAt": "2030-01-01T00:00:00Z"}, "regular"),
        ({"matchers": [{"name": "a", "value": "b"}], "comment": "x"}, "endsAt"),
        ({"matchers": [{"name": "a", "value": "b"}], "endsAt": "soon", "comment": "x"}, "endsAt"),
        (
            {
                "matchers": [{"name": "a", "value": ".*", "isRegex": True}],
                "endsAt": "2099-01-01T00:00:00Z",
                "comment": "x",
            },
            "every alert",
        ),
        ([1], "object"),
    ],
)
def test_bad_silences_are_400_naming_the_field(am, body, needle):
    response = am("post", "silences", body, scope="write")
    assert response.status_code == 400
    assert needle in response.json()


def test_scopes_and_teams(am, make_token, other_team):
    assert am("post", "silences", {}, scope="read").status_code == 403
    assert am("post", "alerts", [], scope="read").status_code == 403
    assert Client().get("/alertmanager/api/v2/alerts").status_code == 401
    theirs = Silence.objects.create(
        team=other_team,
        matchers=[{"name": "a", "op": "=", "value": "b"}],
        ends_at=timezone.now() + td(hours=1),
        comment="x",
    )
    assert am("get", f"silence/{theirs.uid}").status_code == 404
    assert am("delete", f"silence/{theirs.uid}", scope="write").status_code == 404
    assert am("get", "silences").json() == []
    assert am("get", "status").json()["versionInfo"]["version"] == "0.25.0"
    assert am("post", "alerts", {"not": "a list"}, scope="ingest").status_code == 400
