"""GET /api/v1/series and /api/v1/query_range: filters, validation and team scoping."""

from __future__ import annotations

import orjson
import pytest
from rest_framework.test import APIClient

from metrics.ingest import parse_json
from metrics.models import Series
from metrics.services import samples_ingest
from tests.conftest import recent_points

pytestmark = pytest.mark.usefixtures("storage_clean")


@pytest.fixture
def seeded(team):
    body = {
        "series": [
            {"metric": "cpu_usage", "labels": {"service": "checkout", "host": "a"}, "points": recent_points(5)},
            {"metric": "cpu_usage", "labels": {"service": "search", "host": "a"}, "points": recent_points(5)},
            {"metric": "latency", "labels": {"service": "checkout"}, "unit": "ms", "points": recent_points(5)},
        ]
    }
    samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps(body), max_points=100))
    return Series.objects.get(metric="latency")


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_series_filters_by_metric_and_labels(token_client, seeded):
    client = token_client(scopes=("read",))
    assert client.get("/api/v1/series").json()["count"] == 3
    assert client.get("/api/v1/series?metric=cpu_usage").json()["count"] == 2
    body = client.get("/api/v1/series?metric=cpu_usage&label.service=search").json()
    assert [r["labels"] for r in body["results"]] == [{"service": "search", "host": "a"}]
    assert client.get("/api/v1/series?label.host=a&label.service=checkout").json()["count"] == 1


def test_query_range_returns_buckets(token_client, seeded):
    client = token_client(scopes=("read",))
    end = recent_points(1)[0][0]
    response = client.get(f"/api/v1/query_range?series={seeded.uid}&start={end - 240}&end={end}&step=1m&agg=max")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["source"] == "raw"
    assert body["series"]["id"] == str(seeded.uid)
    assert [v for _, v in body["points"]] == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_query_range_accepts_rfc3339(token_client, seeded):
    response = token_client(scopes=("read",)).get(
        f"/api/v1/query_range?series={seeded.uid}&start=2026-01-01T00:00:00Z&end=2026-01-01T01:00:00%2B00:00&step=1h"
    )
    assert response.status_code == 200
    assert len(response.json()["points"]) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=10&step=60", "series"),
        ("series={uid}&step=60", "start"),
        ("series={uid}&start=yesterday&step=60", "start"),
        ("series={uid}&start=10", "step"),
        ("series={uid}&start=10&step=fast", "step"),
        ("series={uid}&start=10&step=-5", "step"),
        ("series={uid}&start=10&step=60&agg=median", "agg"),
        ("series={uid}&start=100&end=10&step=60", "end"),
        ("series={uid}&start=0&end=100000000&step=60", "step"),
    ],
)
def test_query_range_names_the_bad_parameter(token_client, seeded, query, field):
    response = token_client(scopes=("read",)).get("/api/v1/query_range?" + query.format(uid=seeded.uid))
    assert response.status_code == 400
    assert field in response.json()


def test_query_range_of_an_unknown_series_is_404(token_client, seeded):
    client = token_client(scopes=("read",))
    assert client.get("/api/v1/query_range?series=not-a-uuid&start=1&step=60").status_code == 404


def test_an_ingest_only_token_cannot_read(token_client, seeded):
    response = token_client(scopes=("ingest",)).get("/api/v1/series")
    assert response.status_code == 403


def test_no_credentials_is_401(seeded):
    assert APIClient().get("/api/v1/series").status_code == 401


class TestPersonas:
    """alice owns the series, bob is in another team, charlie is in no team."""

    def test_alice_sees_her_team_series(self, alice, seeded):
        client = session_client(alice)
        assert client.get("/api/v1/series").json()["count"] == 3
        url = f"/api/v1/query_range?series={seeded.uid}&start=1&end=7200&step=1h"
        assert client.get(url).status_code == 200

    @pytest.mark.parametrize("persona", ["bob", "charlie"])
    def test_others_see_nothing(self, request, persona, seeded):
        client = session_client(request.getfixturevalue(persona))
        assert client.get("/api/v1/series").json()["count"] == 0
        url = f"/api/v1/query_range?series={seeded.uid}&start=1&end=7200&step=1h"
        assert client.get(url).status_code == 404

    def test_another_teams_token_sees_nothing(self, token_client, other_team, seeded):
        client = token_client(scopes=("read",), for_team=other_team)
        assert client.get("/api/v1/series").json()["count"] == 0
        assert client.get(f"/api/v1/query_range?series={seeded.uid}&start=1&step=1h").status_code == 404


def test_openapi_schema_documents_every_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = orjson.loads(response.content)["paths"]
    for path in ("/api/v1/ingest", "/api/v1/prom/write", "/api/v1/series", "/api/v1/query_range"):
        assert path in paths


def test_api_docs_page_renders(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert b"cdn" not in response.content.lower()  # served from static files, no CDN


def test_series_take_alertmanager_matchers(token_client, seeded):
    client = token_client(scopes=("read",))
    body = client.get("/api/v1/series", {"match[]": '{service=~"check.*", host!="b"}'}).json()
    assert sorted(r["metric"] for r in body["results"]) == ["cpu_usage", "latency"]
    body = client.get("/api/v1/series", {"metric": "cpu_usage", "match[]": "service!~check.*"}).json()
    assert [r["labels"]["service"] for r in body["results"]] == ["search"]
    response = client.get("/api/v1/series", {"match[]": 'host=~"(?=a)"'})
    assert response.status_code == 400
    assert "match[]" in response.json()
