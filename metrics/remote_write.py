"""Prometheus remote_write 1.0: snappy (block format) compressed protobuf WriteRequest.

The message classes are built from the schema below at import time (no generated code):

    message WriteRequest { repeated TimeSeries timeseries = 1; }
    message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
    message Label        { string name = 1; string value = 2; }
    message Sample       { double value = 1; int64 timestamp = 2; }   // timestamp in ms

Fields Prometheus adds later (metadata = 3, exemplars, histograms) are skipped as unknown.
"""

from __future__ import annotations

import time

import cramjam
import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from metrics.ingest import (
    Batch,
    IngestError,
    ParsedSeries,
    canonical_labels,
    check_labels,
    check_metric,
    check_time_range,
)

MAX_DECOMPRESSED = 64 * 1024 * 1024


def _build_classes():
    fd = descriptor_pb2.FileDescriptorProto(
        name="hiveops_prometheus_remote.proto", package="prometheus", syntax="proto3"
    )
    f = descriptor_pb2.FieldDescriptorProto

    def message(name: str, fields: list[tuple[str, int, int, int, str | None]]) -> None:
        msg = fd.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            entry = msg.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                entry.type_name = type_name

    rep, opt = f.LABEL_REPEATED, f.LABEL_OPTIONAL
    message("Label", [("name", 1, f.TYPE_STRING, opt, None), ("value", 2, f.TYPE_STRING, opt, None)])
    message("Sample", [("value", 1, f.TYPE_DOUBLE, opt, None), ("timestamp", 2, f.TYPE_INT64, opt, None)])
    message(
        "TimeSeries",
        [
            ("labels", 1, f.TYPE_MESSAGE, rep, ".prometheus.Label"),
            ("samples", 2, f.TYPE_MESSAGE, rep, ".prometheus.Sample"),
        ],
    )
    message("WriteRequest", [("timeseries", 1, f.TYPE_MESSAGE, rep, ".prometheus.TimeSeries")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"prometheus.{name}"))
        for name in ("WriteRequest", "TimeSeries", "Label", "Sample")
    }


MESSAGES = _build_classes()
WriteRequest = MESSAGES["WriteRequest"]


def decode(body: bytes) -> object:
    try:
        if cramjam.snappy.decompress_raw_len(body) > MAX_DECOMPRESSED:
            raise IngestError("body", "decompressed request exceeds 64 MB", status=413)
        raw = bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise IngestError("body", f"not snappy block-compressed data: {exc}") from None
    request = WriteRequest()
    try:
        request.ParseFromString(raw)
    except Exception as exc:  # protobuf raises its own DecodeError
        raise IngestError("body", f"malformed protobuf WriteRequest: {exc}") from None
    return request


def parse_remote_write(body: bytes, *, max_points: int, now_s: float | None = None) -> Batch:
    now_s = time.time() if now_s is None else now_s
    request = decode(body)
    total = sum(len(ts.samples) for ts in request.timeseries)
    if total > max_points:
        raise IngestError("timeseries", f"{total} samples in one request; the limit is {max_points}", status=413)
    batch = Batch()
    for i, series in enumerate(request.timeseries):
        where = f"timeseries[{i}]"
        labels = {label.name: label.value for label in series.labels}
        metric = check_metric(labels.pop("__name__", None), f"{where}.labels.__name__")
        labels = check_labels(labels, f"{where}.labels")
        values = np.fromiter((s.value for s in series.samples), dtype=np.float64, count=len(series.samples))
        ts_ms = np.fromiter((s.timestamp for s in series.samples), dtype=np.int64, count=len(series.samples))
        finite = np.isfinite(values)
        if not finite.all():
            # Staleness markers end a series in Prometheus; other NaNs/Infs cannot be stored.
            # Both are skipped (and counted) rather than failing a batch Prometheus would not resend.
            batch.skipped += int((~finite).sum())
            values, ts_ms = values[finite], ts_ms[finite]
        check_time_range(ts_ms / 1000.0, f"{where}.samples", now_s)
        if len(values):
            batch.series.append(ParsedSeries(metric, canonical_labels(labels), "", ts_ms * 1000, values))
    return batch
