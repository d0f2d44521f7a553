"""Streamed CSV exports of a team's rows (incidents, alerts): one base view, read keyset by keyset
on the primary key so nothing is held in memory whole, with the filters every export takes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.csvexport import CsvWriter
from core.teams.auth import scope_required
from core.timeparse import unix_seconds

CSV_FILTERS = [
    OpenApiParameter("status", str, description="comma-separated statuses, or open"),
    OpenApiParameter("since", str, description="opened/first seen at or after: unix seconds, RFC 3339, -7d"),
]
CSV_RESPONSE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)}


class ExportView(APIView):
    permission_classes = [scope_required("read")]

    def perform_content_negotiation(self, request, force=False):
        """`format` names the export format here, not a DRF renderer; errors are JSON."""
        return JSONRenderer(), JSONRenderer.media_type


async def stream_rows(
    header: list[str], fetch: Callable[[int | None], list[tuple[int, list]]], *, per_read: int
) -> AsyncIterator[str]:
    """CSV lines of rows read `per_read` at a time by keyset on the primary key (newest first)."""
    writer = CsvWriter(lineterminator="\n")
    yield writer.line(header)
    before = None
    while True:
        rows = await sync_to_async(fetch)(before)
        if not rows:
            return
        yield "".join(writer.line(row) for _, row in rows)
        if len(rows) < per_read:
            return
        before = rows[-1][0]


def since_filter(request: Request) -> datetime | None:
    raw = request.query_params.get("since")
    if not raw:
        return None
    now = time.time()
    return datetime.fromtimestamp(unix_seconds(raw, "since", default=None, now=int(now)), UTC)


def status_filter(request: Request, allowed: tuple[str, ...], open_means: tuple[str, ...]) -> set[str] | None:
    raw = request.query_params.get("status")
    if not raw:
        return None
    wanted = {s.strip() for s in raw.split(",") if s.strip()}
    unknown = wanted - set(allowed) - {"open"}
    if unknown:
        raise ValidationError({"status": f"unknown status {sorted(unknown)[0]!r}; use {', '.join(allowed)} or open"})
    return wanted | set(open_means) if "open" in wanted else wanted


def iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def seconds(value) -> str:
    return f"{value.total_seconds():.0f}" if value is not None else ""


def csv_response(lines: AsyncIterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
