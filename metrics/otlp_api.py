"""`POST /otlp/v1/metrics`: OTLP/HTTP metrics (protobuf or JSON, gzip or not) into HiveOps series
(`metrics/otlp.py` says how they are named). Authenticated with an API token with the `ingest`
scope, as Bearer or as the Basic password. Answers as the OTLP/HTTP specification asks: 200 with
an `ExportMetricsServiceResponse` (with `partial_success` when points were rejected) in the
request's encoding; errors as a `google.rpc.Status` in that encoding (400, 401, 403, 413, 415,
429 with Retry-After, 503)."""

from __future__ import annotations

import time

import numpy as np
import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from google.rpc import status_pb2

from core import bodylimit
from core.api import RETRY_AFTER_SECONDS
from core.teams.protocol_auth import CHALLENGE, ProtocolAuthError, protocol_caller
from metrics.ingest import Batch, IngestError, ParsedSeries, canonical_labels, check_labels, check_metric
from metrics.models import Series
from metrics.otlp import JSON, PROTOBUF, OtlpBatch, OtlpSeries, decode, encode_response, parse_otlp
from metrics.selectors import series_latest
from metrics.services import samples_ingest

GRPC_CODE = {400: 3, 401: 16, 403: 7, 413: 8, 415: 3, 429: 8, 503: 14}


def _status(status: int, message: str, content_type: str, **headers: str) -> HttpResponse:
    if content_type == JSON:
        body = orjson.dumps({"code": GRPC_CODE.get(status, 2), "message": message})
    else:
        body = status_pb2.Status(code=GRPC_CODE.get(status, 2), message=message).SerializeToString()
        content_type = PROTOBUF
    response = HttpResponse(body, status=status, content_type=content_type)
    for name, value in headers.items():
        response[name] = value
    return response


def _body(request: HttpRequest) -> bytes | None:
    limit = settings.HIVEOPS_INGEST_MAX_BYTES
    if bodylimit.refusal(request.META.get("CONTENT_LENGTH"), limit) is not None:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return body if len(body) <= limit else None


@csrf_exempt
def otlp_metrics(request: HttpRequest) -> HttpResponse:
    content_type = request.content_type if request.content_type in (PROTOBUF, JSON) else PROTOBUF
    if request.method != "POST":
        return _status(405, "use POST", content_type)
    body = _body(request)
    if body is None:
        return _status(413, f"request body larger than {settings.HIVEOPS_INGEST_MAX_BYTES} bytes", content_type)
    try:
        caller = protocol_caller(request, "ingest")
        message = decode(
            body, content_type=request.content_type, content_encoding=request.headers.get("Content-Encoding", "")
        )
        found = parse_otlp(
            message,
            max_points=settings.HIVEOPS_INGEST_MAX_POINTS,
            now_s=time.time(),
            max_age_s=settings.HIVEOPS_RETENTION_RAW_DAYS * 86400,
        )
        batch = to_batch(found, team_id=caller.team_ids[0])
        samples_ingest(team_id=caller.team_ids[0], batch=batch)
    except ProtocolAuthError as exc:
        headers = {"WWW-Authenticate": CHALLENGE} if exc.status == 401 else {}
        if exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
        return _status(exc.status, exc.message, content_type, **headers)
    except IngestError as exc:
        return _status(exc.status, f"{exc.item}: {exc.message}", content_type)
    except DatabaseError:
        return _status(
            503, "database unavailable, retry later", content_type, **{"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    return HttpResponse(encode_response(found, content_type), status=200, content_type=content_type)


def to_batch(found: OtlpBatch, *, team_id: int) -> Batch:
    """The ingest batch: names and labels checked as every other intake does (a series that
    fails is rejected with its points), delta sums accumulated onto the stored value."""
    batch = Batch(skipped=found.skipped)
    for series in found.series.values():
        try:
            check_metric(series.metric, "metric")
            labels = check_labels(series.labels, "labels")
        except IngestError as exc:
            found.reject(len(series.points), f"{series.metric[:80]}: {exc.message}")
            continue
        stamps = sorted(series.points)
        values = np.asarray([series.points[t] for t in stamps], dtype=np.float64)
        if series.delta:
            values = np.cumsum(values) + _stored(team_id, series)
        batch.series.append(
            ParsedSeries(
                series.metric, canonical_labels(labels), series.unit, np.asarray(stamps, dtype=np.int64), values
            )
        )
    return batch


def _stored(team_id: int, series: OtlpSeries) -> float:
    """The newest stored value of a delta sum's series (0 for a new one)."""
    found = Series.objects.filter(team_id=team_id, metric=series.metric, labels=series.labels).values_list(
        "id", flat=True
    )
    ids = list(found[:1])
    latest = series_latest(series_ids=ids) if ids else {}
    return float(latest[ids[0]][1]) if ids and ids[0] in latest else 0.0
