"""Item 7: hostile time and number parameters (inf, 1e400, -1e20, nan, years 0000 and 9999, huge
steps) are a 400 naming the parameter on every endpoint and page that takes one, never a 500."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.test import Client

from core.timeparse import ParamError, instant, month, step_seconds, unix_seconds
from metrics.models import Series
from paging.models import OnCallRotation, RotationMember
from tests.alerts.factories import ingest, now_s
from tests.slo.slo_factories import sla, slo

ALL_SCOPES = ("ingest", "read", "write", "admin")
HOSTILE_TIMES = [
    "inf",
    "-inf",
    "nan",
    "1e400",
    "-1e20",
    "1e20",
    "99999999999999999999999",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999999+00:00",
    "-999999999d",
    "2026-13-45T00:00:00Z",
    "x" * 5000,
]
HOSTILE_STEPS = ["99999999999999999999", "1e400", "inf", "-60", "0", "9999999999d", "1.5h"]
HOSTILE_MONTHS = ["0000-01", "9999-12", "2026-00", "2026-13", "1e400", "-1e20"]


@pytest.fixture
def world(team, alice, storage_clean):
    ingest(team, "cpu", {"host": "a"}, [[now_s() - 60, 1.0]])
    series = Series.objects.get(team=team)
    rotation = OnCallRotation.objects.create(
        team=team, name="primary", length="weekly", handoff_time=time(9, 0), start_date=date(2026, 1, 5)
    )
    RotationMember.objects.create(rotation=rotation, user=alice, position=0)
    sla(team, slo(team))
    return {"series": str(series.uid), "rotation": rotation.pk}


def _time_requests(world: dict, value: str) -> list[tuple[str, dict, str]]:
    uid = world["series"]
    return [
        ("/api/v1/query_range", {"series": uid, "start": value, "step": "60"}, "start"),
        ("/api/v1/query_range", {"series": uid, "start": "0", "end": value, "step": "60"}, "end"),
        ("/api/v1/export/series", {"metric": "cpu", "start": value}, "start"),
        ("/api/v1/export/series", {"metric": "cpu", "start": "-1h", "end": value}, "end"),
        ("/api/v1/export/incidents.csv", {"since": value}, "since"),
        ("/api/v1/export/alerts.csv", {"since": value}, "since"),
        ("/api/v1/audit", {"since": value}, "since"),
        ("/api/v1/audit", {"until": value}, "until"),
        (f"/api/v1/series/{uid}/scores", {"start": value}, "start"),
        (f"/api/v1/series/{uid}/scores", {"end": value}, "end"),
        ("/api/v1/anomalies", {"since": value}, "since"),
        ("/api/v1/changes", {"since": value}, "since"),
        ("/api/v1/changes", {"until": value}, "until"),
        (f"/api/v1/rotations/{world['rotation']}/on-call", {"at": value}, "at"),
    ]


@pytest.mark.parametrize("value", HOSTILE_TIMES)
def test_a_hostile_time_is_a_400_naming_the_parameter(token_client, world, value):
    client = token_client(ALL_SCOPES)
    for path, params, field in _time_requests(world, value):
        response = client.get(path, params)
        assert response.status_code == 400, (path, params, response.status_code, response.content[:300])
        assert field in response.json(), (path, response.json())


@pytest.mark.parametrize("value", HOSTILE_TIMES[:10])
def test_a_hostile_time_in_a_json_body_is_a_400_naming_the_field(token_client, world, value):
    client = token_client(ALL_SCOPES)
    for path, field in (("/api/v1/analysis/rootcause", "at"), ("/api/v1/analysis/correlations", "start")):
        body = {"at": value} if field == "at" else {"start": value, "series": [world["series"]]}
        response = client.post(path, body, format="json")
        assert response.status_code == 400, (path, value, response.content[:300])
        assert field in response.json()


@pytest.mark.parametrize("value", [1e308, -1e308, 10**30, True])
def test_a_hostile_json_number_is_a_400_naming_the_field(token_client, world, value):
    response = token_client(ALL_SCOPES).post("/api/v1/analysis/rootcause", {"at": value}, format="json")
    assert response.status_code == 400
    assert "at" in response.json()


@pytest.mark.parametrize("value", HOSTILE_STEPS)
def test_a_hostile_step_is_a_400_naming_it(token_client, world, value):
    params = {"series": world["series"], "start": "-1h", "step": value}
    response = token_client(ALL_SCOPES).get("/api/v1/query_range", params)
    assert response.status_code == 400
    assert "step" in response.json()


@pytest.mark.parametrize("value", ["inf", "nan", "1e400", "-1e20", "99999999999999999999"])
def test_hostile_numbers_of_the_anomaly_list_are_a_400_naming_them(token_client, world, value):
    client = token_client(ALL_SCOPES)
    for field in ("min_score", "limit"):
        response = client.get("/api/v1/anomalies", {field: value})
        assert response.status_code == 400
        assert field in response.json()


@pytest.mark.parametrize("value", HOSTILE_MONTHS)
def test_a_hostile_sla_report_month_is_a_400_naming_it(token_client, world, alice, value):
    response = token_client(ALL_SCOPES).get("/api/v1/slas/report", {"month": value})
    assert response.status_code == 400
    assert "month" in response.json()
    page = Client()
    page.force_login(alice)
    answer = page.get("/slos/reports/", {"month": value})
    assert answer.status_code == 400
    assert answer.content.startswith(b"month:")


@pytest.mark.parametrize("value", ["9999-12-31T23:59", "0000-01-01T00:00", "1e400", "x" * 500])
def test_a_hostile_time_on_the_on_call_page_is_a_400_naming_it(world, alice, value):
    page = Client()
    page.force_login(alice)
    response = page.get("/oncall/", {"at": value})
    assert response.status_code == 400
    assert response.content.startswith(b"at:")


@pytest.mark.parametrize("value", ["-1", "99999999999999999999", "1e400", "abc"])
def test_hostile_pagination_is_not_a_500(token_client, world, value):
    client = token_client(ALL_SCOPES)
    for field in ("offset", "limit"):
        response = client.get("/api/v1/alerts", {field: value})
        assert response.status_code in (200, 400), (field, value, response.content[:300])
        if response.status_code == 400:
            assert field in response.json()


def test_the_one_parser_accepts_the_documented_forms():
    assert unix_seconds("1700000000", "t") == 1_700_000_000
    assert unix_seconds(1_700_000_000.9, "t") == 1_700_000_000
    assert unix_seconds("2023-11-14T22:13:20Z", "t") == 1_700_000_000
    assert unix_seconds("-1h", "t", now=1_700_003_600) == 1_700_000_000
    assert unix_seconds(None, "t", default=5) == 5
    assert instant("2026-03-01T10:00", "at", assume_utc=True).isoformat() == "2026-03-01T10:00:00+00:00"
    assert step_seconds("5m") == 300
    assert month("2026-03") == (2026, 3)


@pytest.mark.parametrize("value", HOSTILE_TIMES)
def test_the_one_parser_refuses_hostile_times_with_one_error_format(value):
    with pytest.raises(ParamError) as refused:
        unix_seconds(value, "start")
    assert refused.value.detail.keys() == {"start"}
    assert refused.value.field == "start"
