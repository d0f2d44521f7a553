"""Items 9 and 10 over HTTP: an unknown remote_write message is a 415, duplicate label names and second-based
timestamps a 400 naming the item; samples older than retention and a second, different value for
one series and timestamp a 400 naming the item. Nothing of a rejected batch is written."""

from __future__ import annotations

import time

import cramjam
import orjson
import pytest

from metrics.remote_write import MESSAGES
from tests.conftest import recent_points
from tests.hostile.conftest import row_counts

pytestmark = pytest.mark.django_db(transaction=True)
V2 = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
V1 = "application/x-protobuf;proto=prometheus.WriteRequest"


def _write_request(labels: list[tuple[str, str]], samples: list[tuple[float, int]]) -> bytes:
    request = MESSAGES["WriteRequest"]()
    series = request.timeseries.add()
    for name, value in labels:
        series.labels.add(name=name, value=value)
    for value, ts_ms in samples:
        series.samples.add(value=value, timestamp=ts_ms)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def _prom(client, body: bytes, content_type: str = V1):
    return client.post("/api/v1/prom/write", data=body, content_type=content_type)


def _ingest(client, points: list, labels: dict | None = None, extra: list | None = None):
    series = [{"metric": "cpu", "labels": labels or {"host": "a"}, "points": points}, *(extra or [])]
    return client.post("/api/v1/ingest", data=orjson.dumps({"series": series}), content_type="application/json")


def test_an_unknown_remote_write_message_is_a_415_so_the_sender_falls_back(token_client, storage_clean):
    now_ms = int(time.time() * 1000)
    before = row_counts()
    body = _write_request([("__name__", "up")], [(1.0, now_ms)])
    response = _prom(token_client(), body, "application/x-protobuf;proto=io.prometheus.write.v3.Request")
    assert response.status_code == 415
    assert response.json()["item"] == "Content-Type"
    assert "io.prometheus.write.v2.Request" in response.json()["error"]
    assert row_counts() == before
    # A 1.0 body labelled 2.0 holds no 2.0 fields (1.0's field 1 is reserved in 2.0): nothing is
    # written, and the header says so, so the sender sees it.
    mislabelled = _prom(token_client(), body, V2)
    assert mislabelled["X-Prometheus-Remote-Write-Samples-Written"] == "0"
    assert row_counts() == before
    assert _prom(token_client(), _write_request([("__name__", "up")], [(1.0, now_ms)])).status_code == 200


def test_duplicate_label_names_in_one_series_are_a_400_naming_the_label(token_client, storage_clean):
    labels = [("__name__", "up"), ("job", "api"), ("job", "db")]
    before = row_counts()
    response = _prom(token_client(), _write_request(labels, [(1.0, int(time.time() * 1000))]))
    assert response.status_code == 400
    assert response.json()["item"] == "timeseries[0].labels[2]"
    assert "twice" in response.json()["error"]
    assert row_counts() == before


def test_remote_write_timestamps_in_seconds_are_a_400_naming_the_sample(token_client, storage_clean):
    now_ms = int(time.time() * 1000)
    before = row_counts()
    response = _prom(token_client(), _write_request([("__name__", "up")], [(1.0, now_ms), (2.0, now_ms // 1000)]))
    assert response.status_code == 400
    assert response.json()["item"] == "timeseries[0].samples[1]"
    assert "milliseconds" in response.json()["error"]
    assert row_counts() == before


@pytest.mark.parametrize("age_s", [40 * 86400, time.time() - 1, time.time() - 86400 * 365 * 30])
def test_samples_older_than_retention_are_a_400_naming_the_point(token_client, storage_clean, age_s):
    points = recent_points(3)
    points[1][0] = int(time.time() - age_s)
    before = row_counts()
    response = _ingest(token_client(), points)
    assert response.status_code == 400
    assert response.json()["item"] == "series[0].points[1]"
    assert "retention" in response.json()["error"]
    assert row_counts() == before


def test_remote_write_samples_older_than_retention_are_a_400(token_client, storage_clean):
    old_ms = int((time.time() - 40 * 86400) * 1000)
    response = _prom(token_client(), _write_request([("__name__", "up")], [(1.0, old_ms)]))
    assert response.status_code == 400
    assert response.json()["item"] == "timeseries[0].samples[0]"


def test_a_second_value_for_one_series_and_timestamp_is_a_400_naming_both(token_client, storage_clean):
    points = recent_points(3)
    again = [[points[2][0], 99.0]]
    before = row_counts()
    # The same series again, as a second entry of the batch.
    other = {"metric": "cpu", "labels": {"host": "a"}, "points": again}
    response = _ingest(token_client(), points, extra=[other])
    assert response.status_code == 400
    assert response.json()["item"] == "series[1].points[0]"
    assert "series[0].points[2]" in response.json()["error"]
    assert row_counts() == before


def test_resending_the_same_value_stays_an_idempotent_duplicate(token_client, storage_clean):
    points = recent_points(3)
    client = token_client()
    first = _ingest(client, [*points, points[0]])
    assert first.status_code == 200
    assert (first.json()["accepted"], first.json()["duplicates"]) == (3, 1)
    again = _ingest(client, points)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 3)


def test_a_remote_write_second_value_for_one_timestamp_is_a_400(token_client, storage_clean):
    now_ms = int(time.time() * 1000)
    body = _write_request([("__name__", "up")], [(1.0, now_ms), (2.0, now_ms)])
    response = _prom(token_client(), body)
    assert response.status_code == 400
    assert response.json()["item"] == "timeseries[0].samples[1]"
