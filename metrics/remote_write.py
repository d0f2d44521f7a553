"""Prometheus remote_write 1.0: snappy (block format) compressed protobuf WriteRequest.

The message classes are built from the schema below at import time (no generated code):

    message WriteRequest { repeated TimeSeries timeseries = 1; }
    message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
    message Label        { string name = 1; string value = 2; }
    message Sample       { double value = 1; int64 timestamp = 2; }   // timestamp in ms

Fields Prometheus adds later (metadata = 3, exemplars, histograms) are skipped as unknown.

remote_write 2.0 (`Content-Type: application/x-protobuf;proto=io.prometheus.write.v2.Request`) is
decoded by `metrics/remote_write2.py`; any other `proto` is answered 415, as the specification
asks. Metric and label names may be any UTF-8 (Prometheus 3 sends them so).
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
    find_conflict,
)

MAX_DECOMPRESSED = 64 * 1024 * 1024
V1_MESSAGE = "prometheus.WriteRequest"
# Sample timestamps are milliseconds; below this (1973-03-03 in ms) they are plainly seconds.
SECONDS_LOOKALIKE_MS = 100_000_000_000


V2_MESSAGE = "io.prometheus.write.v2.Request"


def message_version(content_type: str | None, params: dict[str, str]) -> int | None:
    """1 or 2 by the Content-Type's `proto` parameter (none: 1.0), or None for anything else."""
    proto = (params or {}).get("proto")
    if proto is None or proto == V1_MESSAGE:
        return 1
    return 2 if proto == V2_MESSAGE else None


def unsupported_message(content_type: str | None, params: dict[str, str]) -> str | None:
    """Why a request's Content-Type cannot be decoded (a 415), or None for 1.0 and 2.0."""
    if message_version(content_type, params) is not None:
        return None
    proto = (params or {}).get("proto", "")
    return f"remote_write message {proto[:100]!r} is not supported; send {V1_MESSAGE} or {V2_MESSAGE}"


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


def decompress(body: bytes) -> bytes:
    try:
        if cramjam.snappy.decompress_raw_len(body) > MAX_DECOMPRESSED:
            raise IngestError("body", "decompressed request exceeds 64 MB", status=413)
        return bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise IngestError("body", f"not snappy block-compressed data: {exc}") from None


def decode(body: bytes) -> object:
    raw = decompress(body)
    request = WriteRequest()
    try:
        request.ParseFromString(raw)
    except Exception as exc:  # protobuf raises its own DecodeError
        raise IngestError("body", f"malformed protobuf WriteRequest: {exc}") from None
    return request


def _labels(series, where: str) -> tuple[str, dict[str, str]]:
    labels: dict[str, str] = {}
    for j, label in enumerate(series.labels):
        if label.name in labels:
            raise IngestError(f"{where}.labels[{j}]", f"label name {label.name[:80]!r} appears twice in one series")
        labels[label.name] = label.value
    metric = check_metric(labels.pop("__name__", None), f"{where}.labels.__name__", utf8=True)
    return metric, check_labels(labels, f"{where}.labels", utf8=True)


def check_milliseconds(ts_ms: np.ndarray, where: str) -> None:
    seconds = (ts_ms > 0) & (ts_ms < SECONDS_LOOKALIKE_MS)
    if seconds.any():
        j = int(np.argmax(seconds))
        message = f"timestamp {int(ts_ms[j])} is in early 1970: remote_write timestamps are milliseconds, not seconds"
        raise IngestError(f"{where}[{j}]", message)


def parse_remote_write(
    body: bytes, *, max_points: int, now_s: float | None = None, max_age_s: float | None = None
) -> Batch:
    """`max_age_s`: samples older than this many seconds are refused (the HTTP API passes the retention)."""
    now_s = time.time() if now_s is None else now_s
    oldest_s = None if max_age_s is None else now_s - max_age_s
    request = decode(body)
    total = sum(len(ts.samples) for ts in request.timeseries)
    if total > max_points:
        raise IngestError("timeseries", f"{total} samples in one request; the limit is {max_points}", status=413)
    batch = Batch()
    kept: list[tuple[int, np.ndarray]] = []  # (timeseries index, indices of the samples kept)
    for i, series in enumerate(request.timeseries):
        where = f"timeseries[{i}]"
        metric, labels = _labels(series, where)
        values = np.fromiter((s.value for s in series.samples), dtype=np.float64, count=len(series.samples))
        ts_ms = np.fromiter((s.timestamp for s in series.samples), dtype=np.int64, count=len(series.samples))
        check_milliseconds(ts_ms, f"{where}.samples")
        index = np.arange(len(values))
        finite = np.isfinite(values)
        if not finite.all():
            # Staleness markers end a series in Prometheus; other NaNs/Infs cannot be stored.
            # Both are skipped (and counted) rather than failing a batch Prometheus would not resend.
            batch.skipped += int((~finite).sum())
            values, ts_ms, index = values[finite], ts_ms[finite], index[finite]
        try:
            check_time_range(ts_ms / 1000.0, f"{where}.samples", now_s, oldest_s)
        except IngestError as exc:  # name the sample by its place in the request, not among the kept ones
            k = int(exc.item.rsplit("[", 1)[1].rstrip("]"))
            raise IngestError(f"{where}.samples[{int(index[k])}]", exc.message) from None
        if len(values):
            batch.series.append(ParsedSeries(metric, canonical_labels(labels), "", ts_ms * 1000, values))
            kept.append((i, index))
    check_conflicts(batch, kept)
    return batch


def check_conflicts(batch: Batch, kept: list[tuple[int, np.ndarray]]) -> None:
    if not batch.series:
        return
    offsets = np.cumsum([0, *(len(s.values) for s in batch.series)])
    ts_us = np.concatenate([s.ts_us for s in batch.series])
    values = np.concatenate([s.values for s in batch.series])
    conflict = find_conflict([f"{s.metric}\x00{s.labels_key}" for s in batch.series], offsets, ts_us, values)
    if conflict is None:
        return

    def name(k: int) -> str:
        n = int(np.searchsorted(offsets, k, side="right")) - 1
        i, index = kept[n]
        return f"timeseries[{i}].samples[{int(index[k - offsets[n]])}]"

    later, earlier = conflict
    raise IngestError(name(later), f"a different value for the same series and timestamp as {name(earlier)}")
