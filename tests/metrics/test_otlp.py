"""/otlp/v1/metrics with the OpenTelemetry Python SDK's own OTLP/HTTP exporter (protobuf, gzip)
and its encoder's message sent as OTLP JSON: a gauge, a counter and a histogram come back
through /prometheus/api/v1/query with Prometheus' OTLP naming."""

from __future__ import annotations

import gzip
import time

import pytest
import requests
from django.db import connection
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import Observation
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(live_server, team, make_token):
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE metrics_sample, metrics_rollup_1m, metrics_rollup_1h, metrics_rollup_dirty")
    return live_server.url, make_token(team, ("ingest",)), make_token(team, ("read",))


def collect(service: str):
    """One collection of a gauge, a counter and a histogram from a real SDK meter provider."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader],
        resource=Resource.create(
            {"service.name": service, "service.instance.id": "i-1", "deployment.environment": "prod"}
        ),
    )
    meter = provider.get_meter("checkout.meter", "1.2.3")
    meter.create_observable_gauge("queue.depth", callbacks=[lambda _: [Observation(7.5, {"queue": "mail"})]])
    counter = meter.create_counter("http.requests", unit="1")
    counter.add(3, {"code": "200"})
    counter.add(2, {"code": "200"})
    histogram = meter.create_histogram("http.duration", unit="ms")
    for value in (5, 20, 20, 300):
        histogram.record(value, {"route": "/pay"})
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


def query(url: str, token: str, promql: str) -> dict[str, str]:
    body = requests.get(f"{url}/prometheus/api/v1/query", params={"query": promql}, auth=("grafana", token), timeout=10)
    assert body.status_code == 200, body.text
    return {r["metric"].get("le", r["metric"].get("code", "")): r["value"][1] for r in body.json()["data"]["result"]}


def check_round_trip(url: str, read: str, job: str) -> None:
    assert query(url, read, f'queue_depth{{job="{job}", queue="mail"}}') == {"": "7.5"}
    assert query(url, read, f'http_requests_total{{job="{job}", instance="i-1"}}') == {"200": "5"}
    buckets = query(url, read, f'http_duration_bucket{{job="{job}", route="/pay"}}')
    assert buckets["5"] == "1"
    assert buckets["25"] == "3"
    assert buckets["500"] == "4"
    assert buckets["+Inf"] == "4"
    assert query(url, read, f'http_duration_sum{{job="{job}"}}') == {"": "345"}
    assert query(url, read, f'http_duration_count{{job="{job}"}}') == {"": "4"}
    labels = requests.get(
        f"{url}/prometheus/api/v1/series",
        params={"match[]": f'queue_depth{{job="{job}"}}'},
        auth=("g", read),
        timeout=10,
    ).json()["data"][0]
    assert labels["service_name"] == job
    assert labels["deployment_environment"] == "prod"
    assert labels["otel_scope_name"] == "checkout.meter"
    assert labels["otel_scope_version"] == "1.2.3"


def test_sdk_exporter_protobuf_gzip(server):
    url, ingest, read = server
    exporter = OTLPMetricExporter(
        endpoint=f"{url}/otlp/v1/metrics", headers={"Authorization": f"Bearer {ingest}"}, compression=Compression.Gzip
    )
    assert exporter.export(collect("checkout")) == MetricExportResult.SUCCESS
    check_round_trip(url, read, "checkout")


def test_otlp_json(server):
    url, ingest, read = server
    body = json_format.MessageToJson(encode_metrics(collect("search")))
    response = requests.post(
        f"{url}/otlp/v1/metrics",
        data=gzip.compress(body.encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        auth=("otel", ingest),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    check_round_trip(url, read, "search")


def test_partial_success_names_the_rejected_points(server):
    url, ingest, _ = server
    request = encode_metrics(collect("pay"))
    [gauge] = [m for m in request.resource_metrics[0].scope_metrics[0].metrics if m.name == "queue.depth"]
    point = gauge.gauge.data_points[0]
    point.time_unix_nano = 10**18 * 5  # far in the future
    response = requests.post(
        f"{url}/otlp/v1/metrics",
        data=request.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {ingest}"},
        timeout=10,
    )
    assert response.status_code == 200
    answer = ExportMetricsServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_data_points == 1
    assert "future" in answer.partial_success.error_message


@pytest.mark.parametrize(
    ("headers", "data", "status"),
    [
        ({"Content-Type": "text/plain"}, b"x", 415),
        ({"Content-Type": "application/x-protobuf"}, b"\xff\xff\xff", 400),
        ({"Content-Type": "application/json"}, b"{not json", 400),
        ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"not gzip", 400),
        ({"Content-Type": "application/json", "Content-Encoding": "br"}, b"{}", 415),
    ],
)
def test_hostile_bodies_are_4xx(server, headers, data, status):
    url, ingest, read = server
    response = requests.post(f"{url}/otlp/v1/metrics", data=data, headers=headers, auth=("x", ingest), timeout=10)
    assert response.status_code == status
    refused = requests.post(
        f"{url}/otlp/v1/metrics", data=b"{}", headers={"Content-Type": "application/json"}, auth=("x", read), timeout=10
    )
    assert refused.status_code == 403


def test_delta_sums_accumulate_and_summaries_map(server):
    url, ingest, read = server

    def send(delta: float, at_s: int, temporality=metrics_pb2.AGGREGATION_TEMPORALITY_DELTA):
        request = ExportMetricsServiceRequest()
        scope = request.resource_metrics.add().scope_metrics.add()
        metric = scope.metrics.add(name="jobs.done")
        metric.sum.is_monotonic = True
        metric.sum.aggregation_temporality = temporality
        metric.sum.data_points.add(time_unix_nano=at_s * 10**9, as_int=int(delta))
        summary = scope.metrics.add(name="rpc.latency").summary.data_points.add(
            time_unix_nano=at_s * 10**9, count=3, sum=0.6
        )
        summary.quantile_values.add(quantile=0.99, value=0.4)
        return requests.post(
            f"{url}/otlp/v1/metrics",
            data=request.SerializeToString(),
            headers={"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {ingest}"},
            timeout=10,
        )

    now = int(time.time()) - 120
    assert send(4, now).status_code == 200
    assert send(6, now + 60).status_code == 200
    assert query(url, read, "jobs_done_total") == {"": "10"}
    assert query(url, read, 'rpc_latency{quantile="0.99"}') == {"": "0.4"}
    assert query(url, read, "rpc_latency_count") == {"": "3"}
