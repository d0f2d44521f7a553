"""Export endpoint of series samples (CSV, NDJSON, Parquet); the incident and alert CSVs are
alerts/api/exports.py, on the same base (core/csvstream.py).

All are read-scoped and tenant-scoped like the rest of the API, and stream their body: nothing
is built in memory whole (see metrics/exports.py)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

from core.csvstream import ExportView
from core.teams.auth import request_team_ids
from core.timeparse import unix_seconds
from metrics.exports import ENCODERS, FORMATS, ExportError, export_stream, parse_matchers, series_select


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
