"""Prometheus remote_write decoding: real captured bodies and WriteRequests built from the schema."""

from __future__ import annotations

import math
import struct

import cramjam
import pytest

from metrics.ingest import IngestError
from metrics.remote_write import MESSAGES, parse_remote_write
from tests.conftest import FIXTURES

STALE_NAN = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]


def write_request(series: list[tuple[dict[str, str], list[tuple[float, int]]]]) -> bytes:
    request = MESSAGES["WriteRequest"]()
    for labels, samples in series:
        ts = request.timeseries.add()
        for name, value in labels.items():
            ts.labels.add(name=name, value=value)
        for value, timestamp_ms in samples:
            ts.samples.add(value=value, timestamp=timestamp_ms)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_it_reads_real_prometheus_bodies(n):
    body = (FIXTURES / "prometheus" / f"write-{n}.snappy.pb").read_bytes()
    batch = parse_remote_write(body, max_points=50_000, now_s=1_900_000_000)
    assert 450 < len(batch.series) < 600
    metrics = {s.metric for s in batch.series}
    assert "node_cpu_seconds_total" in metrics
    assert "go_goroutines" in metrics
    assert all("__name__" not in s.labels_key for s in batch.series)
    node = [s for s in batch.series if s.metric.startswith("node_")]
    assert node
    assert all('"job":"node"' in s.labels_key for s in node)


def test_name_becomes_metric_and_other_labels_the_label_set():
    body = write_request([({"__name__": "up", "job": "api", "instance": "h:9"}, [(1.0, 1_700_000_000_123)])])
    (series,) = parse_remote_write(body, max_points=10, now_s=1_800_000_000).series
    assert series.metric == "up"
    assert series.labels_key == '{"instance":"h:9","job":"api"}'
    assert series.ts_us.tolist() == [1_700_000_000_123_000]
    assert series.values.tolist() == [1.0]


def test_staleness_markers_are_skipped_and_counted():
    body = write_request(
        [({"__name__": "up"}, [(1.0, 1_700_000_000_000), (STALE_NAN, 1_700_000_015_000), (0.0, 1_700_000_030_000)])]
    )
    batch = parse_remote_write(body, max_points=10, now_s=1_800_000_000)
    assert batch.skipped == 1
    assert batch.series[0].values.tolist() == [1.0, 0.0]
    assert math.isnan(STALE_NAN)


def test_a_series_without_a_name_is_rejected():
    body = write_request([({"job": "x"}, [(1.0, 1_700_000_000_000)])])
    with pytest.raises(IngestError) as info:
        parse_remote_write(body, max_points=10, now_s=1_800_000_000)
    assert info.value.item == "timeseries[0].labels.__name__"


def test_future_samples_are_rejected_with_their_index():
    body = write_request(
        [({"__name__": "up"}, [(1.0, 1_700_000_000_000)]), ({"__name__": "up2"}, [(1.0, 1_900_000_000_000)])]
    )
    with pytest.raises(IngestError) as info:
        parse_remote_write(body, max_points=10, now_s=1_800_000_000)
    assert info.value.item == "timeseries[1].samples[0]"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not snappy at all", "snappy"),
        (bytes(cramjam.snappy.compress_raw(b"\xff\xff\xff garbage")), "protobuf"),
    ],
)
def test_malformed_bodies_are_400(body, message):
    with pytest.raises(IngestError) as info:
        parse_remote_write(body, max_points=10, now_s=1_800_000_000)
    assert info.value.item == "body"
    assert message in info.value.message


def test_too_many_samples_is_413():
    body = write_request([({"__name__": "up"}, [(1.0, 1_700_000_000_000 + i) for i in range(11)])])
    with pytest.raises(IngestError) as info:
        parse_remote_write(body, max_points=10, now_s=1_800_000_000)
    assert info.value.status == 413
