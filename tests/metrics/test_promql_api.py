"""/prometheus/api/v1/: Prometheus' envelope and errors, the PromQL subset, authentication with
Bearer or Basic, and team scoping."""

from __future__ import annotations

import base64

import orjson
import pytest
from django.test import Client

from metrics.ingest import parse_json
from metrics.services import samples_ingest

pytestmark = pytest.mark.usefixtures("storage_clean")
T0 = 1_790_000_000 // 60 * 60  # a minute boundary


def ingest(team, series: list[dict]) -> None:
    samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps({"series": series}), max_points=10_000))


@pytest.fixture
def seeded(team, other_team):
    points = [[T0 + 60 * i, float(i)] for i in range(10)]
    ingest(
        team,
        [
            {"metric": "http_requests_total", "labels": {"job": "api", "code": "200"}, "points": points},
            {
                "metric": "http_requests_total",
                "labels": {"job": "api", "code": "500"},
                "points": [[t, v * 2] for t, v in points],
            },
            {"metric": "cpu", "labels": {"host": "web-1"}, "points": [[T0 + 540, 0.25]]},
        ],
    )
    ingest(other_team, [{"metric": "http_requests_total", "labels": {"job": "secret"}, "points": points}])


@pytest.fixture
def prom(make_token, team):
    token = make_token(team, ("read",))

    def get(path: str, method: str = "get", basic: bool = False, **params):
        auth = "Basic " + base64.b64encode(f"anyone:{token}".encode()).decode() if basic else f"Bearer {token}"
        client = Client(HTTP_AUTHORIZATION=auth)
        return getattr(client, method)(f"/prometheus/api/v1/{path}", params)

    return get


def test_instant_query_returns_a_vector(prom, seeded):
    body = prom("query", query='http_requests_total{code="500"}', time=T0 + 540).json()
    assert body == {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"__name__": "http_requests_total", "job": "api", "code": "500"}, "value": [T0 + 540, "18"]}
            ],
        },
    }


def test_basic_auth_and_form_post(prom, seeded):
    response = prom("query", method="post", basic=True, query="sum(http_requests_total)", time=T0 + 540)
    assert response.status_code == 200
    assert response.json()["data"]["result"] == [{"metric": {}, "value": [T0 + 540, "27"]}]


def test_range_query_with_rate_and_aggregation(prom, seeded):
    body = prom(
        "query_range", query="sum by (job) (rate(http_requests_total[5m]))", start=T0 + 300, end=T0 + 540, step="2m"
    ).json()
    [series] = body["data"]["result"]
    assert series["metric"] == {"job": "api"}
    # both counters grow steadily (1/min and 2/min): 3/60 per second, whatever the extrapolation
    assert [p[0] for p in series["values"]] == [T0 + 300, T0 + 420, T0 + 540]
    assert all(abs(float(v) - 0.05) < 1e-9 for _, v in series["values"])


def test_comparison_filters_and_bool_answers(prom, seeded):
    body = prom("query", query="http_requests_total > 10", time=T0 + 540).json()
    assert [r["metric"]["code"] for r in body["data"]["result"]] == ["500"]
    body = prom("query", query="http_requests_total > bool 10", time=T0 + 540).json()
    assert sorted(r["value"][1] for r in body["data"]["result"]) == ["0", "1"]
    assert "__name__" not in body["data"]["result"][0]["metric"]


def test_scalar_and_offset(prom, seeded):
    assert prom("query", query="1 + 2 * 3", time=T0).json()["data"] == {"resultType": "scalar", "result": [T0, "7"]}
    body = prom("query", query='http_requests_total{code="200"} offset 5m', time=T0 + 540).json()
    assert body["data"]["result"][0]["value"][1] == "4"


def test_series_labels_and_values_are_team_scoped(prom, seeded):
    series = prom("series", **{"match[]": 'http_requests_total{job=~".+"}'}).json()["data"]
    assert {s["code"] for s in series} == {"200", "500"}
    assert prom("labels").json()["data"] == ["__name__", "code", "host", "job"]
    assert prom("label/job/values").json()["data"] == ["api"]
    assert prom("label/__name__/values").json()["data"] == ["cpu", "http_requests_total"]
    assert prom("status/buildinfo").json()["data"]["version"].startswith("2.")
    assert "cpu" in prom("metadata").json()["data"]


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("histogram_quantile(0.9, x)", "function histogram_quantile() is not supported"),
        ("x[5m:1m]", "subqueries"),
        ("x and y", "binary operator and"),
        ("x + on(a) y", "vector matching"),
        ("quantile(0.5, x)", "aggregation quantile"),
        ("x @ 100", "@ modifier"),
        ("sum(", "parse error"),
        ('x{a=~"(?=b)"}', "regex"),
        ("", "empty"),
    ],
)
def test_unsupported_parts_are_named(prom, seeded, query, needle):
    response = prom("query", query=query, time=T0)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error"
    assert body["errorType"] == "bad_data"
    assert needle in body["error"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"query": "x", "start": T0, "end": T0 + 60}, "step"),
        ({"query": "x", "start": T0, "end": T0 + 60, "step": "-1"}, "step"),
        ({"query": "x", "start": T0 + 60, "end": T0, "step": "1"}, "end"),
        ({"query": "x", "start": T0, "end": T0 + 86400 * 30, "step": "1"}, "11,000"),
        ({"query": "x", "start": "yesterday", "end": T0, "step": "1"}, "start"),
    ],
)
def test_bad_range_parameters(prom, seeded, params, needle):
    response = prom("query_range", **params)
    assert response.status_code == 400
    assert needle in response.json()["error"]


def test_authentication_is_required(seeded, make_token, team):
    response = Client().get("/prometheus/api/v1/query", {"query": "cpu"})
    assert response.status_code == 401
    assert "Basic" in response["WWW-Authenticate"]
    wrong = "Basic " + base64.b64encode(b"u:nope").decode()
    assert Client(HTTP_AUTHORIZATION=wrong).get("/prometheus/api/v1/query", {"query": "cpu"}).status_code == 401
    ingest_only = make_token(team, ("ingest",))
    response = Client(HTTP_AUTHORIZATION=f"Bearer {ingest_only}").get("/prometheus/api/v1/query", {"query": "cpu"})
    assert response.status_code == 403
    assert "read" in response.json()["error"]


def test_series_needs_a_match(prom, seeded):
    assert prom("series").json()["errorType"] == "bad_data"
    assert prom("series", **{"match[]": '{job=~".*"}'}).status_code == 400
