"""Prometheus remote_write 2.0 (`Content-Type: application/x-protobuf;proto=io.prometheus.write.v2.Request`),
snappy block-compressed like 1.0. The message classes are built at import time from this schema
(the fields HiveOps reads; others are skipped as unknown):

    message Request    { repeated string symbols = 4; repeated TimeSeries timeseries = 5; }
    message TimeSeries { repeated uint32 labels_refs = 1; repeated Sample samples = 2;
                         repeated bytes histograms = 3; repeated Exemplar exemplars = 4;
                         Metadata metadata = 5; int64 created_timestamp = 6; }
    message Sample     { double value = 1; int64 timestamp = 2; }
    message Exemplar   { repeated uint32 labels_refs = 1; double value = 2; int64 timestamp = 3; }
    message Metadata   { int32 type = 1; uint32 help_ref = 3; uint32 unit_ref = 4; }

Labels are pairs of indices into the symbols table (whose first entry must be ""). The unit of
the metadata becomes the series' unit. Native histograms cannot be stored: a request carrying
any is refused with a 400 naming the series (the sender should drop them from remote_write 2.0
with `send_native_histograms: false`). Exemplars are not stored and not counted as written."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from metrics.ingest import (
    MAX_UNIT_LEN,
    Batch,
    IngestError,
    ParsedSeries,
    canonical_labels,
    check_labels,
    check_metric,
    check_time_range,
)
from metrics.remote_write import check_conflicts, check_milliseconds, decompress

V2_MESSAGE = "io.prometheus.write.v2.Request"


def _build_classes():
    fd = descriptor_pb2.FileDescriptorProto(
        name="hiveops_remote_write_v2.proto", package="hiveops.rw2", syntax="proto3"
    )
    f = descriptor_pb2.FieldDescriptorProto
    rep, opt = f.LABEL_REPEATED, f.LABEL_OPTIONAL

    def message(name: str, fields: list[tuple[str, int, int, int, str | None]]) -> None:
        msg = fd.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            entry = msg.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                entry.type_name = type_name

    message("Sample", [("value", 1, f.TYPE_DOUBLE, opt, None), ("timestamp", 2, f.TYPE_INT64, opt, None)])
    message(
        "Exemplar",
        [
            ("labels_refs", 1, f.TYPE_UINT32, rep, None),
            ("value", 2, f.TYPE_DOUBLE, opt, None),
            ("timestamp", 3, f.TYPE_INT64, opt, None),
        ],
    )
    message(
        "Metadata",
        [
            ("type", 1, f.TYPE_INT32, opt, None),
            ("help_ref", 3, f.TYPE_UINT32, opt, None),
            ("unit_ref", 4, f.TYPE_UINT32, opt, None),
        ],
    )
    message(
        "TimeSeries",
        [
            ("labels_refs", 1, f.TYPE_UINT32, rep, None),
            ("samples", 2, f.TYPE_MESSAGE, rep, ".hiveops.rw2.Sample"),
            ("histograms", 3, f.TYPE_BYTES, rep, None),
            ("exemplars", 4, f.TYPE_MESSAGE, rep, ".hiveops.rw2.Exemplar"),
            ("metadata", 5, f.TYPE_MESSAGE, opt, ".hiveops.rw2.Metadata"),
            ("created_timestamp", 6, f.TYPE_INT64, opt, None),
        ],
    )
    message(
        "Request",
        [("symbols", 4, f.TYPE_STRING, rep, None), ("timeseries", 5, f.TYPE_MESSAGE, rep, ".hiveops.rw2.TimeSeries")],
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"hiveops.rw2.{name}"))
        for name in ("Request", "TimeSeries", "Sample", "Exemplar", "Metadata")
    }


MESSAGES = _build_classes()
Request = MESSAGES["Request"]


@dataclass(slots=True)
class Written:
    samples: int = 0
    histograms: int = 0
    exemplars: int = 0


def decode(body: bytes):
    request = Request()
    try:
        request.ParseFromString(decompress(body))
    except IngestError:
        raise
    except Exception as exc:  # protobuf raises its own DecodeError
        raise IngestError("body", f"malformed protobuf {V2_MESSAGE}: {exc}") from None
    return request


def _symbol(symbols, ref: int, where: str) -> str:
    if ref >= len(symbols):
        raise IngestError(where, f"symbol reference {ref} is outside the symbols table ({len(symbols)} entries)")
    return symbols[ref]


def _labels(symbols, series, where: str) -> tuple[str, dict[str, str]]:
    refs = series.labels_refs
    if len(refs) % 2:
        raise IngestError(f"{where}.labels_refs", "must hold name/value pairs (an even number of references)")
    labels: dict[str, str] = {}
    for j in range(0, len(refs), 2):
        name = _symbol(symbols, refs[j], f"{where}.labels_refs[{j}]")
        if name in labels:
            raise IngestError(f"{where}.labels_refs[{j}]", f"label name {name[:80]!r} appears twice in one series")
        labels[name] = _symbol(symbols, refs[j + 1], f"{where}.labels_refs[{j + 1}]")
    metric = check_metric(labels.pop("__name__", None), f"{where}.labels.__name__", utf8=True)
    return metric, check_labels({k: v for k, v in labels.items() if v != ""}, f"{where}.labels", utf8=True)


def parse_remote_write_v2(
    body: bytes, *, max_points: int, now_s: float | None = None, max_age_s: float | None = None
) -> Batch:
    """A remote_write 2.0 request as an ingest batch (same checks as 1.0)."""
    now_s = time.time() if now_s is None else now_s
    oldest_s = None if max_age_s is None else now_s - max_age_s
    request = decode(body)
    symbols = request.symbols
    if symbols and symbols[0] != "":
        raise IngestError("symbols[0]", 'the first symbol must be the empty string ""')
    total = sum(len(ts.samples) for ts in request.timeseries)
    if total > max_points:
        raise IngestError("timeseries", f"{total} samples in one request; the limit is {max_points}", status=413)
    batch, kept = Batch(), []
    for i, series in enumerate(request.timeseries):
        where = f"timeseries[{i}]"
        if len(series.histograms):
            raise IngestError(
                f"{where}.histograms",
                "native histograms are not supported; set send_native_histograms: false "
                "or send classic histograms (_bucket, _sum, _count)",
            )
        metric, labels = _labels(symbols, series, where)
        unit = (
            _symbol(symbols, series.metadata.unit_ref, f"{where}.metadata.unit_ref")
            if series.HasField("metadata")
            else ""
        )
        values = np.fromiter((s.value for s in series.samples), dtype=np.float64, count=len(series.samples))
        ts_ms = np.fromiter((s.timestamp for s in series.samples), dtype=np.int64, count=len(series.samples))
        check_milliseconds(ts_ms, f"{where}.samples")
        index = np.arange(len(values))
        finite = np.isfinite(values)
        if not finite.all():  # staleness markers, as in 1.0: skipped and counted
            batch.skipped += int((~finite).sum())
            values, ts_ms, index = values[finite], ts_ms[finite], index[finite]
        try:
            check_time_range(ts_ms / 1000.0, f"{where}.samples", now_s, oldest_s)
        except IngestError as exc:
            k = int(exc.item.rsplit("[", 1)[1].rstrip("]"))
            raise IngestError(f"{where}.samples[{int(index[k])}]", exc.message) from None
        if len(values):
            batch.series.append(
                ParsedSeries(metric, canonical_labels(labels), unit[:MAX_UNIT_LEN], ts_ms * 1000, values)
            )
            kept.append((i, index))
    check_conflicts(batch, kept)
    return batch
