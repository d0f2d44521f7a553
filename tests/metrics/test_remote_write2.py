"""remote_write 2.0 on /api/v1/prom/write: Content-Type negotiation, symbols and label
references, metadata units, the X-Prometheus-Remote-Write-*-Written headers, native histograms
refused, UTF-8 names (as Prometheus 3 sends them) queryable through /prometheus; 1.0 unchanged."""

from __future__ import annotations

import time

import cramjam
import pytest
from django.test import Client

from metrics.models import Series
from metrics.remote_write2 import MESSAGES
from tests.metrics.test_remote_write import write_request

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("storage_clean")]
V2 = "application/x-protobuf;proto=io.prometheus.write.v2.Request"


def v2_request(series: list[tuple[dict[str, str], list[tuple[float, int]], str]], histograms: bool = False) -> bytes:
    request = MESSAGES["Request"]()
    symbols = {"": 0}

    def ref(text: str) -> int:
        return symbols.setdefault(text, len(symbols))

    for labels, samples, unit in series:
        ts = request.timeseries.add()
        for name, value in labels.items():
            ts.labels_refs.extend([ref(name), ref(value)])
        for value, at_ms in samples:
            ts.samples.add(value=value, timestamp=at_ms)
        if unit:
            ts.metadata.type = 3
            ts.metadata.unit_ref = ref(unit)
        if histograms:
            ts.histograms.append(b"\x08\x01")
    request.symbols.extend(sorted(symbols, key=symbols.get))
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


@pytest.fixture
def send(make_token, team):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(team, ('ingest', 'read'))}")

    def post(body: bytes, content_type: str = V2):
        return client.post(
            "/api/v1/prom/write",
            data=body,
            content_type=content_type,
            HTTP_CONTENT_ENCODING="snappy",
            HTTP_X_PROMETHEUS_REMOTE_WRITE_VERSION="2.0.0",
        )

    post.client = client
    return post


def test_v2_writes_and_counts_in_headers(send):
    now_ms = int(time.time() * 1000) // 1000 * 1000
    body = v2_request(
        [
            (
                {"__name__": "http_request_duration_seconds_sum", "job": "api"},
                [(1.5, now_ms - 1000), (2.5, now_ms)],
                "seconds",
            ),
            ({"__name__": "up", "job": "api", "instance": "a:9100"}, [(1.0, now_ms)], ""),
        ]
    )
    response = send(body)
    assert response.status_code == 200, response.content
    assert response["X-Prometheus-Remote-Write-Samples-Written"] == "3"
    assert response["X-Prometheus-Remote-Write-Histograms-Written"] == "0"
    assert response["X-Prometheus-Remote-Write-Exemplars-Written"] == "0"
    assert Series.objects.get(metric="http_request_duration_seconds_sum").unit == "seconds"
    assert Series.objects.get(metric="up").labels == {"job": "api", "instance": "a:9100"}
    again = send(body)  # a resend is written already: counted, not duplicated
    assert again["X-Prometheus-Remote-Write-Samples-Written"] == "3"


def test_utf8_names_are_stored_and_queryable(send):
    now_ms = int(time.time() * 1000)
    response = send(v2_request([({"__name__": "http.server.duration", "service.name": "café"}, [(0.25, now_ms)], "")]))
    assert response.status_code == 200, response.content
    body = send.client.get(
        "/prometheus/api/v1/query", {"query": '{"http.server.duration", "service.name"="café"}', "time": now_ms / 1000}
    ).json()
    assert body["data"]["result"][0]["value"][1] == "0.25"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (v2_request([({"__name__": "h"}, [], "")], histograms=True), "native histograms are not supported"),
        (b"\x00garbage", "snappy"),
        (bytes(cramjam.snappy.compress_raw(b"\x22\x03abc")), "first symbol"),
    ],
)
def test_bad_v2_requests_are_400_naming_the_part(send, body, needle):
    response = send(body)
    assert response.status_code == 400
    assert needle in response.json()["error"]


def test_an_out_of_range_symbol_reference_is_named(send):
    request = MESSAGES["Request"]()
    request.symbols.extend(["", "__name__"])
    request.timeseries.add().labels_refs.extend([1, 7])
    response = send(bytes(cramjam.snappy.compress_raw(request.SerializeToString())))
    assert response.status_code == 400
    assert response.json()["item"] == "timeseries[0].labels_refs[1]"


def test_unknown_messages_are_415_and_v1_is_unchanged(send):
    refused = send(b"x", content_type="application/x-protobuf;proto=example.v3.Request")
    assert refused.status_code == 415, refused.content
    now_ms = int(time.time() * 1000)
    response = send(
        write_request([({"__name__": "up", "job": "x"}, [(1.0, now_ms)])]), content_type="application/x-protobuf"
    )
    assert response.status_code == 200
    assert "X-Prometheus-Remote-Write-Samples-Written" not in response
