"""Export endpoints: series samples (CSV, NDJSON, Parquet) and incidents and alerts (CSV).

All are read-scoped and tenant-scoped like the rest of the API, and stream their body: nothing
is built in memory whole (see metrics/exports.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.csvexport import CsvWriter
from core.teams.auth import request_team_ids, scope_required
from core.timeparse import unix_seconds
from metrics.exports import ENCODERS, FORMATS, ExportError, export_stream, parse_matchers, series_select

ROWS_PER_READ = 2000


def _time(value: str | None, field: str, now: float, default: float | None = None) -> int:
    """Unix seconds, RFC 3339, or a duration before now such as -24h or -7d."""
    return unix_seconds(value, field, default=default, now=int(now))


def _uids(values: list[str]) -> list[str]:
    uids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    for value in uids:
        try:
            uuid.UUID(value)
        except ValueError:
            raise ValidationError({"series": f"{value!r} is not a series id"}) from None
    return uids


def _stamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%dT%H%MZ")


class ExportView(APIView):
    permission_classes = [scope_required("read")]

    def perform_content_negotiation(self, request, force=False):
        """`format` names the export format here, not a DRF renderer; errors are JSON."""
        return JSONRenderer(), JSONRenderer.media_type


class SeriesExportView(ExportView):
    """Samples of the selected series in [start, end], streamed as CSV, NDJSON or Parquet."""

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), description="default csv"),
            OpenApiParameter("metric", str, description="exact metric name"),
            OpenApiParameter("match[]", str, many=True, description='label matcher: service=checkout, pod=~"api-.*"'),
            OpenApiParameter(
                "series", OpenApiTypes.UUID, many=True, description="series ids (repeat or comma-separate)"
            ),
            OpenApiParameter("start", str, required=True, description="unix seconds, RFC 3339, or -24h / -7d"),
            OpenApiParameter("end", str, description="unix seconds or RFC 3339 (default now)"),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="format=csv"),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="format=json"),
            (200, "application/vnd.apache.parquet"): OpenApiResponse(OpenApiTypes.BINARY, description="format=parquet"),
            404: OpenApiResponse(description="no series of your teams match the selection"),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        params = request.query_params
        fmt = params.get("format") or "csv"
        if fmt not in FORMATS:
            raise ValidationError({"format": f"must be one of {', '.join(FORMATS)}"})
        metric = params.get("metric") or None
        uids = _uids(params.getlist("series"))
        if not metric and not uids:
            raise ValidationError({"metric": "give a metric (and label matchers) or series ids"})
        now = time.time()
        end = _time(params.get("end"), "end", now, default=now)
        start = _time(params.get("start"), "start", now)
        if end < start:
            raise ValidationError({"end": "must not be before start"})
        max_days = settings.HIVEOPS_EXPORT_MAX_DAYS
        if end - start > max_days * 86400:
            raise ValidationError({"start": f"the range is longer than {max_days} days; export it in parts"})
        try:
            matchers = parse_matchers(params.getlist("match[]"))
            series = series_select(
                team_ids=request_team_ids(request, "read"),
                metric=metric,
                matchers=matchers,
                series_uids=uids,
                max_series=settings.HIVEOPS_EXPORT_MAX_SERIES,
            )
        except ExportError as exc:
            raise ValidationError({exc.field: exc.message}) from None
        if not series:
            raise NotFound("no series in your teams match")
        encoder = ENCODERS[fmt]
        response = StreamingHttpResponse(
            export_stream(fmt=fmt, series=series, start_us=start * 1_000_000, end_us=end * 1_000_000),
            content_type=encoder.content_type,
        )
        name = metric or "series"
        response["Content-Disposition"] = (
            f'attachment; filename="{name}-{_stamp(start)}-{_stamp(end)}.{encoder.extension}"'
        )
        response["X-Export-Series"] = str(len(series))
        return response


async def _stream_rows(header: list[str], fetch: Callable[[int | None], list[tuple[int, list]]]) -> AsyncIterator[str]:
    """CSV lines of rows read ROWS_PER_READ at a time by keyset on the primary key (newest first)."""
    writer = CsvWriter(lineterminator="\n")
    yield writer.line(header)
    before = None
    while True:
        rows = await sync_to_async(fetch)(before)
        if not rows:
            return
        yield "".join(writer.line(row) for _, row in rows)
        if len(rows) < ROWS_PER_READ:
            return
        before = rows[-1][0]


def _since(request: Request) -> datetime | None:
    raw = request.query_params.get("since")
    if not raw:
        return None
    return datetime.fromtimestamp(_time(raw, "since", time.time()), UTC)


def _statuses(request: Request, allowed: tuple[str, ...], open_means: tuple[str, ...]) -> set[str] | None:
    raw = request.query_params.get("status")
    if not raw:
        return None
    wanted = {s.strip() for s in raw.split(",") if s.strip()}
    unknown = wanted - set(allowed) - {"open"}
    if unknown:
        raise ValidationError({"status": f"unknown status {sorted(unknown)[0]!r}; use {', '.join(allowed)} or open"})
    return wanted | set(open_means) if "open" in wanted else wanted


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def _csv_response(lines: AsyncIterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


CSV_FILTERS = [
    OpenApiParameter("status", str, description="comma-separated statuses, or open"),
    OpenApiParameter("since", str, description="opened/first seen at or after: unix seconds, RFC 3339, -7d"),
]
CSV_RESPONSE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)}
INCIDENT_HEADER = [
    "id", "team", "title", "status", "priority", "service", "opened_at", "acknowledged_at", "resolved_at",
    "time_to_acknowledge_s", "time_to_resolve_s", "assignee", "alerts",
]  # fmt: skip
ALERT_HEADER = [
    "id", "team", "status", "severity", "summary", "service", "source", "labels", "first_seen", "last_seen",
    "acknowledged_at", "resolved_at", "occurrences", "incident",
]  # fmt: skip


def _seconds(value) -> str:
    return f"{value.total_seconds():.0f}" if value is not None else ""


class IncidentExportView(ExportView):
    """Your teams' incidents as CSV, newest first."""

    @extend_schema(parameters=CSV_FILTERS, responses=CSV_RESPONSE)
    def get(self, request: Request) -> StreamingHttpResponse:
        from django.db.models import Count

        from alerts.models import Incident

        qs = Incident.objects.filter(team_id__in=request_team_ids(request, "read"))
        statuses = _statuses(request, tuple(Incident.Status.values), ("triggered", "acknowledged"))
        if statuses is not None:
            qs = qs.filter(status__in=statuses)
        since = _since(request)
        if since is not None:
            qs = qs.filter(opened_at__gte=since)
        qs = qs.select_related("team", "service", "assignee").annotate(alert_count=Count("alerts")).order_by("-id")

        def fetch(before: int | None) -> list[tuple[int, list]]:
            page = qs.filter(id__lt=before) if before else qs
            return [(i.id, _incident_row(i)) for i in page[:ROWS_PER_READ]]

        return _csv_response(_stream_rows(INCIDENT_HEADER, fetch), "incidents.csv")


def _incident_row(i) -> list:
    return [
        i.uid, i.team.slug, i.title, i.status, i.effective_priority, i.service.name if i.service_id else "",
        _iso(i.opened_at), _iso(i.acknowledged_at), _iso(i.resolved_at), _seconds(i.time_to_acknowledge),
        _seconds(i.time_to_resolve), i.assignee.username if i.assignee_id else "", i.alert_count,
    ]  # fmt: skip


class AlertExportView(ExportView):
    """Your teams' alerts as CSV, newest first."""

    @extend_schema(parameters=CSV_FILTERS, responses=CSV_RESPONSE)
    def get(self, request: Request) -> StreamingHttpResponse:
        from alerts.models import Alert

        qs = Alert.objects.filter(team_id__in=request_team_ids(request, "read"))
        statuses = _statuses(request, tuple(Alert.Status.values), ("pending", "firing", "acknowledged"))
        if statuses is not None:
            qs = qs.filter(status__in=statuses)
        since = _since(request)
        if since is not None:
            qs = qs.filter(first_seen__gte=since)
        qs = qs.select_related("team", "service", "incident").order_by("-id")

        def fetch(before: int | None) -> list[tuple[int, list]]:
            page = qs.filter(id__lt=before) if before else qs
            return [(a.id, _alert_row(a)) for a in page[:ROWS_PER_READ]]

        return _csv_response(_stream_rows(ALERT_HEADER, fetch), "alerts.csv")


def _alert_row(a) -> list:
    import orjson

    return [
        a.uid, a.team.slug, a.status, a.severity, a.summary, a.service.name if a.service_id else "", a.source,
        orjson.dumps(a.labels, option=orjson.OPT_SORT_KEYS).decode(), _iso(a.first_seen), _iso(a.last_seen),
        _iso(a.acknowledged_at), _iso(a.resolved_at), a.occurrences, a.incident.uid if a.incident_id else "",
    ]  # fmt: skip
