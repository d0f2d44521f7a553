"""OTLP/HTTP metrics (`/otlp/v1/metrics`): an `ExportMetricsServiceRequest` in protobuf or JSON,
optionally gzip-compressed, turned into HiveOps series the way Prometheus' OTLP receiver names
them, so the same PromQL works on either path.

Naming:
- metric names: characters outside `[A-Za-z0-9_:]` become `_`; a monotonic sum gets `_total`;
  histograms become `<name>_bucket{le=…}` (cumulative counts, `+Inf` = count), `<name>_sum`,
  `<name>_count`; summaries `<name>{quantile=…}`, `<name>_sum`, `<name>_count`;
- labels: the data point's attributes, then the resource's (`service.name` → `job`, prefixed
  with `service.namespace/` when there is one; `service.instance.id` → `instance`), each also kept
  under its own name with dots as underscores (`service_name`), then the scope's
  (`otel_scope_name`, `otel_scope_version`). A point's attribute wins over a resource attribute.

Temporality: cumulative points are stored as they come. Delta sums are accumulated onto the
series' newest stored value (by the view, which knows the team), so `rate()` works on them.
Delta histograms and exponential histograms are rejected point by point with the spec's
partial-success answer, as are points outside the retention, points in the future, NaN or
infinite values and repeated timestamps; the rest of the request is stored."""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field

import numpy as np
import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.metrics.v1 import metrics_pb2

from metrics.ingest import FUTURE_TOLERANCE_S, MAX_LABEL_VALUE_LEN, MAX_LABELS, IngestError

MAX_DECOMPRESSED = 64 * 1024 * 1024
DELTA = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
NO_RECORDED_VALUE = 1  # DataPointFlags: a staleness marker
PROTOBUF, JSON = "application/x-protobuf", "application/json"
_NOT_NAME = re.compile(r"[^A-Za-z0-9_:]")
_NOT_LABEL = re.compile(r"[^A-Za-z0-9_]")


@dataclass(slots=True)
class OtlpSeries:
    metric: str
    labels: dict[str, str]
    unit: str
    delta: bool = False
    points: dict[int, float] = field(default_factory=dict)  # ts µs -> value


@dataclass(slots=True)
class OtlpBatch:
    series: dict[tuple, OtlpSeries] = field(default_factory=dict)
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    skipped: int = 0

    def reject(self, count: int, reason: str) -> None:
        self.rejected += count
        if reason not in self.reasons and len(self.reasons) < 5:
            self.reasons.append(reason)


def decode(body: bytes, *, content_type: str, content_encoding: str) -> ExportMetricsServiceRequest:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "gzip":
        body = _gunzip(body)
    elif encoding not in ("", "identity"):
        raise IngestError("Content-Encoding", f"{encoding[:40]!r} is not supported; send gzip or none", status=415)
    request = ExportMetricsServiceRequest()
    if content_type == PROTOBUF:
        try:
            request.ParseFromString(body)
        except (DecodeError, ValueError) as exc:
            raise IngestError("body", f"malformed protobuf ExportMetricsServiceRequest: {exc}") from None
    elif content_type == JSON:
        try:
            json_format.Parse(body.decode("utf-8"), request, ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError, RecursionError) as exc:
            raise IngestError("body", f"malformed OTLP JSON: {str(exc)[:300]}") from None
    else:
        raise IngestError("Content-Type", f"send {PROTOBUF} or {JSON}", status=415)
    return request


def _gunzip(body: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, MAX_DECOMPRESSED + 1)
    except zlib.error as exc:
        raise IngestError("body", f"not gzip data: {exc}") from None
    if len(out) > MAX_DECOMPRESSED or inflater.unconsumed_tail:
        raise IngestError("body", "decompressed request exceeds 64 MB", status=413)
    return out


def encode_response(batch: OtlpBatch, content_type: str) -> bytes:
    response = ExportMetricsServiceResponse()
    if batch.rejected:
        response.partial_success.rejected_data_points = batch.rejected
        response.partial_success.error_message = "; ".join(batch.reasons)
    if content_type == JSON:
        return json_format.MessageToJson(response, indent=None).encode()
    return response.SerializeToString()


def metric_name(name: str) -> str:
    clean = _NOT_NAME.sub("_", name) or "_"
    return f"_{clean}" if clean[0].isdigit() else clean


def label_name(name: str) -> str:
    clean = _NOT_LABEL.sub("_", name) or "_"
    if clean[0].isdigit():
        clean = f"key_{clean}"
    return f"key{clean}" if clean.startswith("__") else clean


def attribute_value(value) -> str:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return repr(value.double_value)
    if kind is None:
        return ""
    return orjson.dumps(json_format.MessageToDict(value)).decode()


def attributes(items) -> dict[str, str]:
    return {label_name(kv.key): attribute_value(kv.value)[:MAX_LABEL_VALUE_LEN] for kv in items}


def resource_labels(resource) -> dict[str, str]:
    raw = {kv.key: attribute_value(kv.value) for kv in resource.attributes}
    labels = attributes(resource.attributes)
    if raw.get("service.name"):
        namespace = raw.get("service.namespace")
        labels["job"] = f"{namespace}/{raw['service.name']}" if namespace else raw["service.name"]
    if raw.get("service.instance.id"):
        labels["instance"] = raw["service.instance.id"]
    return labels


def scope_labels(scope) -> dict[str, str]:
    labels = {f"otel_scope_{k}": v for k, v in attributes(scope.attributes).items()}
    if scope.name:
        labels["otel_scope_name"] = scope.name
    if scope.version:
        labels["otel_scope_version"] = scope.version
    return labels


class _Writer:
    """Collects points into series, checking each point (rejections are counted, not raised)."""

    def __init__(self, batch: OtlpBatch, now_s: float, oldest_s: float) -> None:
        self.batch, self.now_s, self.oldest_s = batch, now_s, oldest_s

    def add(self, metric: str, labels: dict[str, str], unit: str, ts_ns: int, value: float, delta=False) -> None:
        ts_s = ts_ns / 1e9
        if not math.isfinite(value):
            self.batch.reject(1, f"{metric}: NaN or infinite value")
            return
        if ts_s < self.oldest_s:
            self.batch.reject(1, f"{metric}: timestamp older than the retention of raw samples")
            return
        if ts_s > self.now_s + FUTURE_TOLERANCE_S:
            self.batch.reject(1, f"{metric}: timestamp more than 10 minutes in the future")
            return
        if len(labels) > MAX_LABELS:
            self.batch.reject(1, f"{metric}: more than {MAX_LABELS} labels")
            return
        key = (metric, tuple(sorted(labels.items())))
        series = self.batch.series.get(key)
        if series is None:
            series = self.batch.series[key] = OtlpSeries(metric, labels, unit[:32], delta)
        ts_us = ts_ns // 1000
        if ts_us in series.points and not delta:
            if series.points[ts_us] != value:
                self.batch.reject(1, f"{metric}: two values for the same timestamp")
            return
        series.points[ts_us] = series.points.get(ts_us, 0.0) + value if delta else value


def parse_otlp(request: ExportMetricsServiceRequest, *, max_points: int, now_s: float, max_age_s: float) -> OtlpBatch:
    batch = OtlpBatch()
    writer = _Writer(batch, now_s, now_s - max_age_s)
    total = 0
    for rm in request.resource_metrics:
        base = resource_labels(rm.resource)
        for sm in rm.scope_metrics:
            scoped = {**base, **scope_labels(sm.scope)}
            for metric in sm.metrics:
                total += _metric(writer, metric, scoped)
                if total > max_points:
                    raise IngestError("resourceMetrics", f"more than {max_points} data points in one request", 413)
    return batch


def _point_labels(point, base: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in {**base, **attributes(point.attributes)}.items() if v != ""}


def _metric(writer: _Writer, metric, base: dict[str, str]) -> int:
    """Add one OTLP metric's points; returns how many data points it had."""
    name, unit = metric_name(metric.name), metric.unit
    kind = metric.WhichOneof("data")
    if kind == "gauge" or kind == "sum":
        data = getattr(metric, kind)
        delta = kind == "sum" and data.aggregation_temporality == DELTA
        if kind == "sum" and data.is_monotonic and not name.endswith("_total"):
            name = f"{name}_total"
        for point in data.data_points:
            if point.flags & NO_RECORDED_VALUE:
                writer.batch.skipped += 1
                continue
            value = point.as_double if point.WhichOneof("value") == "as_double" else float(point.as_int)
            writer.add(name, _point_labels(point, base), unit, point.time_unix_nano, value, delta)
        return len(data.data_points)
    if kind == "histogram":
        if metric.histogram.aggregation_temporality == DELTA:
            writer.batch.reject(len(metric.histogram.data_points), f"{name}: delta histograms are not supported")
            return len(metric.histogram.data_points)
        for point in metric.histogram.data_points:
            _histogram_point(writer, name, unit, point, base)
        return len(metric.histogram.data_points)
    if kind == "summary":
        for point in metric.summary.data_points:
            labels, ts = _point_labels(point, base), point.time_unix_nano
            for q in point.quantile_values:
                writer.add(name, {**labels, "quantile": _le(q.quantile)}, unit, ts, q.value)
            writer.add(f"{name}_sum", labels, unit, ts, point.sum)
            writer.add(f"{name}_count", labels, "", ts, float(point.count))
        return len(metric.summary.data_points)
    if kind == "exponential_histogram":
        count = len(metric.exponential_histogram.data_points)
        writer.batch.reject(count, f"{name}: exponential histograms are not supported")
        return count
    return 0


def _le(bound: float) -> str:
    if math.isinf(bound):
        return "+Inf" if bound > 0 else "-Inf"
    text = repr(float(bound))
    return text[:-2] if text.endswith(".0") else text


def _histogram_point(writer: _Writer, name: str, unit: str, point, base: dict[str, str]) -> None:
    if point.flags & NO_RECORDED_VALUE:
        writer.batch.skipped += 1
        return
    labels, ts = _point_labels(point, base), point.time_unix_nano
    counts = np.cumsum(np.asarray(point.bucket_counts, dtype=np.float64))
    if len(counts) != len(point.explicit_bounds) + 1 and len(counts):
        writer.batch.reject(1, f"{name}: bucket_counts must have one more entry than explicit_bounds")
        return
    for bound, cumulative in zip(point.explicit_bounds, counts, strict=False):
        writer.add(f"{name}_bucket", {**labels, "le": _le(bound)}, "", ts, float(cumulative))
    writer.add(f"{name}_bucket", {**labels, "le": "+Inf"}, "", ts, float(point.count))
    if point.HasField("sum"):
        writer.add(f"{name}_sum", labels, unit, ts, point.sum)
    writer.add(f"{name}_count", labels, "", ts, float(point.count))
