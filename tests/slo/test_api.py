"""SLO and SLA API: every endpoint for the owner (alice), another team (bob) and an outsider
(charlie), tokens and scopes, and 400s that name the bad field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from slo.models import SLA, SLO
from tests.alerts.factories import service
from tests.slo.slo_factories import sla, slo

NOW = datetime(2026, 3, 10, 12, 1, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("storage_clean", "_frozen")


@pytest.fixture
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


NEW_SLO = {
    "name": "API errors",
    "sli_kind": "ratio",
    "total_metric": "http_requests_total",
    "bad_metric": "http_requests_total",
    "bad_matchers": [{"name": "code", "op": "=~", "value": "5.."}],
    "objective": 99.5,
    "window": "28d",
}


def login(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def objective(team):
    return slo(team, service=service(team))


@pytest.fixture
def contract(team, objective):
    return sla(team, objective)


def urls(objective, contract) -> list[str]:
    return [
        "/api/v1/slos",
        f"/api/v1/slos/{objective.uid}",
        f"/api/v1/slos/{objective.uid}/history",
        "/api/v1/slas",
        f"/api/v1/slas/{contract.uid}",
        "/api/v1/slas/report?month=2026-02",
    ]


def test_owner_reads_everything(alice, objective, contract):
    client = login(alice)
    for url in urls(objective, contract):
        assert client.get(url).status_code == 200, url
    body = client.get("/api/v1/slos").json()
    assert body["count"] == 1
    listed = body["results"][0]
    assert listed["id"] == str(objective.uid)
    assert listed["service"] == "checkout"
    assert set(listed["status"]) >= {"attainment", "budget", "burn_rates", "exhaustion_at"}
    assert set(listed["status"]["burn_rates"]) == {"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
    detail = client.get(f"/api/v1/slas/{contract.uid}").json()
    assert detail["stakeholders"] == ["cfo@acme.example", "ops@acme.example"]
    assert detail["slo"] == str(objective.uid)
    report = client.get("/api/v1/slas/report?month=2026-02").json()
    assert report["slas"][0]["customer"] == "ACME"


@pytest.mark.parametrize("persona", ["bob", "charlie"])
def test_other_teams_and_outsiders_see_nothing(request, persona, objective, contract):
    client = login(request.getfixturevalue(persona))
    assert client.get("/api/v1/slos").json()["count"] == 0
    assert client.get("/api/v1/slas").json()["count"] == 0
    assert client.get("/api/v1/slas/report?month=2026-02").json()["slas"] == []
    for url in urls(objective, contract)[1:3] + urls(objective, contract)[4:5]:
        assert client.get(url).status_code == 404, url
    assert client.patch(f"/api/v1/slos/{objective.uid}", {"objective": 90}, format="json").status_code == 404
    assert client.delete(f"/api/v1/slos/{objective.uid}").status_code == 404
    assert client.patch(f"/api/v1/slas/{contract.uid}", {"target": 90}, format="json").status_code == 404
    assert client.delete(f"/api/v1/slas/{contract.uid}").status_code == 404
    created = client.post("/api/v1/slos", NEW_SLO, format="json")
    if persona == "bob":  # creates in his own team
        assert created.status_code == 201
        assert SLO.objects.get(uid=created.json()["id"]).team.slug == "other"
    else:
        assert created.status_code == 400
        assert "team" in created.json()
    # Another team's SLO cannot carry an SLA of yours.
    bad = client.post(
        "/api/v1/slas", {"name": "x", "customer": "y", "target": 99, "slo": str(objective.uid)}, format="json"
    )
    assert bad.status_code == 400
    objective.refresh_from_db()
    assert objective.objective == 99.9


def test_anonymous_is_refused(objective, contract):
    for url in urls(objective, contract):
        assert APIClient().get(url).status_code in (401, 403), url


def test_tokens_read_with_read_and_write_with_write(token_client, objective):
    reader = token_client(scopes=("read",))
    assert reader.get(f"/api/v1/slos/{objective.uid}").status_code == 200
    assert reader.post("/api/v1/slos", NEW_SLO, format="json").status_code == 403
    writer = token_client(scopes=("read", "write"))
    assert writer.post("/api/v1/slos", NEW_SLO, format="json").status_code == 201


def test_owner_creates_updates_and_deletes(alice, objective):
    client = login(alice)
    created = client.post("/api/v1/slos", {**NEW_SLO, "service": "checkout"}, format="json")
    assert created.status_code == 201, created.json()
    uid = created.json()["id"]
    assert created.json()["bad_matchers"] == [{"name": "code", "op": "=~", "value": "5.."}]
    changed = client.patch(f"/api/v1/slos/{uid}", {"objective": 99.0, "window": "month"}, format="json")
    assert changed.json()["objective"] == 99.0
    assert changed.json()["status"]["window_start"] == "2026-03-01T00:00:00Z"
    contract = client.post(
        "/api/v1/slas",
        {
            "name": "Gold",
            "customer": "Initech",
            "slo": uid,
            "target": 99.0,
            "monthly_fee": "500.00",
            "credit_tiers": [{"below": 99.0, "credit_percent": 10}],
            "stakeholders": ["boss@initech.example"],
            "timezone": "Europe/Berlin",
        },
        format="json",
    )
    assert contract.status_code == 201, contract.json()
    assert SLA.objects.get(uid=contract.json()["id"]).stakeholders == "boss@initech.example"
    assert client.delete(f"/api/v1/slas/{contract.json()['id']}").status_code == 204
    assert client.delete(f"/api/v1/slos/{uid}").status_code == 204
    assert not SLO.objects.filter(uid=uid).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"objective": 100}, "objective"),
        ({"objective": "high"}, "objective"),
        ({"total_metric": ""}, "total_metric"),
        ({"good_metric": "ok_total"}, "good_metric"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"window": "90d"}, "window"),
        ({"gap_policy": "maybe"}, "gap_policy"),
        ({"bad_matchers": [{"name": "code", "op": "~", "value": "5"}]}, "bad_matchers"),
        ({"sli_kind": "latency", "metric": "rt"}, "latency_threshold"),
        ({"sli_kind": "threshold", "metric": "rt"}, "bound"),
        ({"sli_kind": "availability"}, "metric"),
        ({"service": "nope"}, "service"),
        ({"page_fast_severity": "urgent"}, "page_fast_severity"),
        ({"min_events": -1}, "min_events"),
        ({"name": "Checkout availability"}, "name"),
    ],
)
def test_bad_slo_fields_are_named(alice, objective, change, field):
    response = login(alice).post("/api/v1/slos", {**NEW_SLO, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target": 101}, "target"),
        ({"credit_tiers": [{"below": 99}]}, "credit_tiers"),
        ({"credit_tiers": [{"below": 99, "credit_percent": 120}]}, "credit_tiers"),
        ({"stakeholders": ["not-an-address"]}, "stakeholders"),
        ({"timezone": "Nowhere"}, "timezone"),
        ({"slo": "00000000-0000-0000-0000-000000000000"}, "slo"),
        ({"monthly_fee": "-1"}, "monthly_fee"),
    ],
)
def test_bad_sla_fields_are_named(alice, objective, change, field):
    body = {"name": "Gold", "customer": "Initech", "slo": str(objective.uid), "target": 99.0, **change}
    response = login(alice).post("/api/v1/slas", body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_report_needs_a_month(alice, contract):
    response = login(alice).get("/api/v1/slas/report?month=2026-13")
    assert response.status_code == 400
    assert "month" in response.json()
