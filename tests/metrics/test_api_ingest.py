"""POST /api/v1/ingest and /api/v1/prom/write through the real views, database and threads."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from metrics.models import Series
from tests.conftest import FIXTURES, json_body, recent_points
from tests.metrics.test_remote_write import write_request

pytestmark = pytest.mark.django_db(transaction=True)


def sample_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM metrics_sample")
        return cursor.fetchone()[0]


def post(client, body: bytes, path="/api/v1/ingest", content_type="application/json"):
    return client.post(path, data=body, content_type=content_type)


def test_it_ingests_and_counts(token_client, storage_clean):
    client = token_client()
    body = json_body(
        [
            {"metric": "cpu_usage", "labels": {"host": "a"}, "unit": "percent", "points": recent_points(5)},
            {"metric": "cpu_usage", "labels": {"host": "b"}, "points": recent_points(3)},
        ]
    )
    response = post(client, body)
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 8, "duplicates": 0, "series": 2}
    assert sample_count() == 8
    series = Series.objects.get(labels={"host": "a"})
    assert (series.metric, series.unit, series.team.slug) == ("cpu_usage", "percent", "ops")


def test_resending_a_batch_changes_nothing(token_client, storage_clean):
    client = token_client()
    body = json_body([{"metric": "m", "labels": {"a": "1"}, "points": recent_points(10)}])
    assert post(client, body).json() == {"accepted": 10, "duplicates": 0, "series": 1}
    assert post(client, body).json() == {"accepted": 0, "duplicates": 10, "series": 1}
    assert sample_count() == 10
    assert Series.objects.count() == 1


def test_label_order_does_not_make_a_new_series(token_client, storage_clean):
    client = token_client()
    post(client, json_body([{"metric": "m", "labels": {"a": "1", "b": "2"}, "points": recent_points(1)}]))
    post(client, json_body([{"metric": "m", "labels": {"b": "2", "a": "1"}, "points": recent_points(2)}]))
    assert Series.objects.count() == 1
    assert sample_count() == 2


def test_a_bad_item_rejects_the_whole_batch(token_client, storage_clean):
    client = token_client()
    points = recent_points(20)
    points[17] = [points[17][0], "oops"]
    body = json_body(
        [{"metric": f"m{i}", "points": recent_points(5)} for i in range(3)] + [{"metric": "bad", "points": points}]
    )
    response = post(client, body)
    assert response.status_code == 400
    assert response.json() == {"error": "value must be a number", "item": "series[3].points[17]"}
    assert sample_count() == 0
    assert Series.objects.count() == 0


def test_malformed_json_is_400(token_client):
    response = post(token_client(), b'{"series": [}')
    assert response.status_code == 400
    assert response.json()["item"] == "body"


def test_more_than_50000_points_is_413(token_client, storage_clean):
    now = int(time.time())
    body = json_body([{"metric": "m", "points": [[now - i, 1.0] for i in range(50_001)]}])
    response = post(token_client(), body)
    assert response.status_code == 413
    assert "50000" in response.json()["error"]
    assert sample_count() == 0


def test_more_than_10_mb_is_413(token_client, settings):
    settings.HIVEOPS_INGEST_MAX_BYTES = 1000
    response = post(token_client(), b" " * 1001 + b"{}")
    assert response.status_code == 413
    assert response.json()["item"] == "body"


def test_no_token_is_401(client):
    response = post(client, json_body([]))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_401(client):
    response = client.post(
        "/api/v1/ingest", data=json_body([]), content_type="application/json", HTTP_AUTHORIZATION="Bearer hvo_nope"
    )
    assert response.status_code == 401


def test_a_token_without_the_ingest_scope_is_403(token_client):
    response = post(token_client(scopes=("read",)), json_body([]))
    assert response.status_code == 403
    assert "ingest" in response.json()["error"]


def test_a_revoked_token_is_401(token_client):
    from core.teams.models import ApiToken
    from core.teams.services import api_token_revoke

    client = token_client()
    api_token_revoke(token=ApiToken.objects.get())
    assert post(client, json_body([])).status_code == 401


def test_get_is_405(token_client):
    assert token_client().get("/api/v1/ingest").status_code == 405


def test_series_are_per_team(token_client, other_team, storage_clean):
    body = json_body([{"metric": "m", "labels": {"a": "1"}, "points": recent_points(2)}])
    post(token_client(), body)
    assert post(token_client(for_team=other_team), body).json()["accepted"] == 2
    assert Series.objects.count() == 2


def test_prometheus_remote_write_real_bodies(token_client, storage_clean):
    client = token_client()
    accepted = 0
    for n in range(4):
        body = (FIXTURES / "prometheus" / f"write-{n}.snappy.pb").read_bytes()
        response = post(client, body, "/api/v1/prom/write", "application/x-protobuf")
        assert response.status_code == 200, response.content
        accepted += response.json()["accepted"]
    assert accepted == sample_count()
    assert accepted > 1900
    assert Series.objects.filter(metric="node_cpu_seconds_total").exists()
    # Prometheus retries after a lost response: the same body again is all duplicates.
    body = (FIXTURES / "prometheus" / "write-0.snappy.pb").read_bytes()
    again = post(client, body, "/api/v1/prom/write", "application/x-protobuf").json()
    assert again["accepted"] == 0
    assert again["duplicates"] > 400


def test_remote_write_garbage_is_400(token_client):
    response = post(token_client(), b"garbage", "/api/v1/prom/write", "application/x-protobuf")
    assert response.status_code == 400
    assert response.json()["item"] == "body"


def test_remote_write_sample_timestamps_are_milliseconds(token_client, storage_clean):
    now_ms = int(time.time()) * 1000
    body = write_request([({"__name__": "up", "job": "x"}, [(1.0, now_ms - 15_000), (0.0, now_ms)])])
    response = post(token_client(), body, "/api/v1/prom/write", "application/x-protobuf")
    assert response.json() == {"accepted": 2, "duplicates": 0, "series": 1}
    with connection.cursor() as cursor:
        cursor.execute("SELECT extract(epoch FROM max(ts))::bigint FROM metrics_sample")
        assert cursor.fetchone()[0] == now_ms // 1000
