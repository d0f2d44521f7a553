"""HTTP API of the metrics app: ingestion (JSON and remote_write) and queries."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, close_old_connections, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import bodylimit, ratelimit
from core.api import RETRY_AFTER_SECONDS
from core.live import publish_async
from core.observability import metrics as m
from core.teams.auth import bearer_secret, request_team_ids, scope_required
from core.teams.selectors import api_token_authenticate
from core.timeparse import step_seconds, unix_seconds
from metrics.ingest import Batch, IngestError, parse_json
from metrics.matchers import Matcher, MatcherError, parse_matchers
from metrics.models import Series
from metrics.remote_write import message_version, parse_remote_write, unsupported_message
from metrics.remote_write2 import parse_remote_write_v2
from metrics.selectors import AGGREGATIONS, QueryError, query_range, series_for_teams, series_list
from metrics.services import samples_ingest

TICK_INTERVAL_S = 1.0
_last_tick: dict[int, float] = {}


def _error(status: int, message: str, item: str | None = None, **headers: str) -> JsonResponse:
    body = {"error": message}
    if item:
        body["item"] = item
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _read_body(request: HttpRequest) -> bytes | JsonResponse:
    """The body, or a 413 naming the limit. Checked before authentication (core/bodylimit.py
    refuses a declared over-limit Content-Length earlier still)."""
    limit = settings.HIVEOPS_INGEST_MAX_BYTES
    refused = bodylimit.refusal(request.META.get("CONTENT_LENGTH"), limit)
    if refused is not None:
        return JsonResponse(refused[1], status=refused[0])
    try:
        body = request.body
    except RequestDataTooBig:
        body = None
    if body is None or len(body) > limit:
        return JsonResponse(bodylimit.too_large(limit), status=413)
    return body


def _ingest_sync(request: HttpRequest, parse: Callable[..., Batch]) -> tuple[JsonResponse, int | None]:
    """Authenticate, parse, validate and write one batch. Runs in a worker thread."""
    close_old_connections()
    body = _read_body(request)
    if isinstance(body, JsonResponse):
        return body, None
    secret = bearer_secret(request.headers.get("Authorization"))
    if secret is None:
        response = _error(401, "send Authorization: Bearer <token>")
        response["WWW-Authenticate"] = 'Bearer realm="hiveops"'
        return response, None
    try:
        token = api_token_authenticate(raw=secret)
        if token is None:
            return _error(401, "invalid, expired or revoked token"), None
        if not token.has_scope("ingest"):
            return _error(403, "this token lacks the 'ingest' scope"), None
        verdict = ratelimit.check(kind="ingest", caller=f"token:{token.pk}", team_id=token.team_id)
        if not verdict.allowed:
            message = f"rate limit of the {verdict.which} reached; retry after {verdict.retry_after} s"
            return _error(429, message, Retry_After=str(verdict.retry_after)), None
        try:
            max_age_s = settings.HIVEOPS_RETENTION_RAW_DAYS * 86400
            batch = parse(body, max_points=settings.HIVEOPS_INGEST_MAX_POINTS, max_age_s=max_age_s)
        except IngestError as exc:
            return JsonResponse(exc.as_dict(), status=exc.status), None
        result = samples_ingest(team_id=token.team_id, batch=batch)
    except (DatabaseError, psycopg.Error):  # COPY's errors reach us unwrapped by Django
        connection.close_if_unusable_or_obsolete()
        return _error(503, "database unavailable, retry later", Retry_After=str(RETRY_AFTER_SECONDS)), None
    return JsonResponse(result.as_dict()), (token.team_id if result.accepted else None)


def _ingest_in_thread(request: HttpRequest, parse: Callable[..., Batch]) -> tuple[JsonResponse, int | None]:
    """`_ingest_sync`, then hand the thread's connection back: with the connection pool
    (settings.DB_POOL_MAX_SIZE) an idle worker thread must not keep one checked out."""
    try:
        return _ingest_sync(request, parse)
    finally:
        close_old_connections()


async def _ingest(request: HttpRequest, parse: Callable[..., Batch]) -> JsonResponse:
    if request.method != "POST":
        return _error(405, "use POST")
    started = time.perf_counter()
    response, team_id = await sync_to_async(_ingest_in_thread, thread_sensitive=False)(request, parse)
    m.ingest_done(parse, response, time.perf_counter() - started)
    if team_id is not None:
        now = time.monotonic()
        if now - _last_tick.get(team_id, 0.0) >= TICK_INTERVAL_S:
            _last_tick[team_id] = now
            await publish_async(team_id, {"type": "metric.tick", "at": time.time()})
    return response


@csrf_exempt
async def ingest_json(request: HttpRequest) -> JsonResponse:
    """POST /api/v1/ingest — see the OpenAPI description in core/schema.py."""
    return await _ingest(request, parse_json)


@csrf_exempt
async def ingest_remote_write(request: HttpRequest) -> JsonResponse:
    """POST /api/v1/prom/write — Prometheus remote_write 1.0 and 2.0 (by Content-Type's `proto`);
    other messages are a 415 (senders fall back). A 2.0 answer carries the
    X-Prometheus-Remote-Write-{Samples,Histograms,Exemplars}-Written headers."""
    version = message_version(request.content_type, request.content_params)
    if version is None:
        return _error(415, unsupported_message(request.content_type, request.content_params), "Content-Type")
    if version == 1:
        return await _ingest(request, parse_remote_write)
    response = await _ingest(request, parse_remote_write_v2)
    written = 0
    if response.status_code == 200:
        body = orjson.loads(response.content)
        written = body.get("accepted", 0) + body.get("duplicates", 0)
    response["X-Prometheus-Remote-Write-Samples-Written"] = str(written)
    response["X-Prometheus-Remote-Write-Histograms-Written"] = "0"
    response["X-Prometheus-Remote-Write-Exemplars-Written"] = "0"
    return response


class SeriesSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uid")
    metric = serializers.CharField()
    labels = serializers.DictField(child=serializers.CharField())
    unit = serializers.CharField()
    team = serializers.SlugField(source="team.slug")
    created_at = serializers.DateTimeField()


@extend_schema(
    parameters=[
        OpenApiParameter("metric", str, description="exact metric name"),
        OpenApiParameter("label.<name>", str, description="label equality, e.g. label.service=checkout (repeatable)"),
        OpenApiParameter(
            "match[]", str, description='label matchers in Alertmanager syntax, e.g. host=~"web-.*" (repeatable)'
        ),
    ]
)
class SeriesListView(generics.ListAPIView):
    """Series of your teams, filtered by metric and labels."""

    serializer_class = SeriesSerializer
    permission_classes = [scope_required("read")]

    def get_queryset(self):
        params = self.request.query_params
        found = [Matcher(key[6:], "=", value) for key, value in params.items() if key.startswith("label.") and key[6:]]
        try:
            for text in params.getlist("match[]"):
                found.extend(parse_matchers(text))
        except MatcherError as exc:
            raise ValidationError({"match[]": str(exc)}) from None
        return series_list(team_ids=request_team_ids(self.request, "read"), metric=params.get("metric"), matchers=found)


class QueryRangeView(APIView):
    """Aligned buckets of one series between start and end (raw samples or rollups by range)."""

    permission_classes = [scope_required("read")]

    @extend_schema(
        parameters=[
            OpenApiParameter("series", OpenApiTypes.UUID, required=True, description="series id"),
            OpenApiParameter("start", str, required=True, description="unix seconds or RFC 3339"),
            OpenApiParameter("end", str, description="unix seconds or RFC 3339 (default now)"),
            OpenApiParameter("step", str, required=True, description="bucket width: 60, 60s, 5m, 1h, 1d"),
            OpenApiParameter("agg", str, enum=list(AGGREGATIONS), description="default avg"),
        ],
        responses=inline_serializer(
            "QueryRange",
            {
                "series": SeriesSerializer(),
                "source": serializers.ChoiceField(choices=["raw", "1m", "1h"]),
                "step": serializers.IntegerField(),
                "agg": serializers.CharField(),
                "points": serializers.ListField(child=serializers.ListField()),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        series_uid = params.get("series")
        if not series_uid:
            raise ValidationError({"series": "required"})
        try:
            series = series_for_teams(team_ids=request_team_ids(request, "read")).get(uid=series_uid)
        except (Series.DoesNotExist, DjangoValidationError):
            raise NotFound("no such series in your teams") from None
        end = unix_seconds(params.get("end"), "end", default=time.time())
        start = unix_seconds(params.get("start"), "start")
        step = step_seconds(params.get("step"))
        agg = params.get("agg", "avg")
        try:
            result = query_range(series_id=series.id, start_s=start, end_s=end, step=step, agg=agg)
        except QueryError as exc:
            raise ValidationError({exc.field: exc.message}) from None
        return Response(
            {
                "series": SeriesSerializer(series).data,
                "source": result.source,
                "step": result.step,
                "agg": agg,
                "points": result.points,
            }
        )
