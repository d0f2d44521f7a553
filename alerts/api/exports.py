"""Your teams' incidents and alerts as CSV (GET /api/v1/export/incidents.csv and alerts.csv),
streamed newest first, keyset by keyset (core/csvstream.py)."""

from __future__ import annotations

import orjson
from django.db.models import Count
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from alerts.models import Alert, Incident
from core.csvstream import (
    CSV_FILTERS,
    CSV_RESPONSE,
    ExportView,
    csv_response,
    iso,
    seconds,
    since_filter,
    status_filter,
    stream_rows,
)
from core.teams.auth import request_team_ids

ROWS_PER_READ = 2000


INCIDENT_HEADER = [
    "id", "team", "title", "status", "priority", "service", "opened_at", "acknowledged_at", "resolved_at",
    "time_to_acknowledge_s", "time_to_resolve_s", "assignee", "alerts",
]  # fmt: skip
ALERT_HEADER = [
    "id", "team", "status", "severity", "summary", "service", "source", "labels", "first_seen", "last_seen",
    "acknowledged_at", "resolved_at", "occurrences", "incident",
]  # fmt: skip


class IncidentExportView(ExportView):
    """Your teams' incidents as CSV, newest first."""

    @extend_schema(parameters=CSV_FILTERS, responses=CSV_RESPONSE)
    def get(self, request: Request) -> StreamingHttpResponse:
        qs = Incident.objects.filter(team_id__in=request_team_ids(request, "read"))
        wanted = status_filter(request, tuple(Incident.Status.values), ("triggered", "acknowledged"))
        if wanted is not None:
            qs = qs.filter(status__in=wanted)
        start = since_filter(request)
        if start is not None:
            qs = qs.filter(opened_at__gte=start)
        qs = qs.select_related("team", "service", "assignee").annotate(alert_count=Count("alerts")).order_by("-id")

        def fetch(before: int | None) -> list[tuple[int, list]]:
            page = qs.filter(id__lt=before) if before else qs
            return [(i.id, _incident_row(i)) for i in page[:ROWS_PER_READ]]

        return csv_response(stream_rows(INCIDENT_HEADER, fetch, per_read=ROWS_PER_READ), "incidents.csv")


def _incident_row(i) -> list:
    return [
        i.uid, i.team.slug, i.title, i.status, i.effective_priority, i.service.name if i.service_id else "",
        iso(i.opened_at), iso(i.acknowledged_at), iso(i.resolved_at), seconds(i.time_to_acknowledge),
        seconds(i.time_to_resolve), i.assignee.username if i.assignee_id else "", i.alert_count,
    ]  # fmt: skip


class AlertExportView(ExportView):
    """Your teams' alerts as CSV, newest first."""

    @extend_schema(parameters=CSV_FILTERS, responses=CSV_RESPONSE)
    def get(self, request: Request) -> StreamingHttpResponse:
        qs = Alert.objects.filter(team_id__in=request_team_ids(request, "read"))
        wanted = status_filter(request, tuple(Alert.Status.values), ("pending", "firing", "acknowledged"))
        if wanted is not None:
            qs = qs.filter(status__in=wanted)
        start = since_filter(request)
        if start is not None:
            qs = qs.filter(first_seen__gte=start)
        qs = qs.select_related("team", "service", "incident").order_by("-id")

        def fetch(before: int | None) -> list[tuple[int, list]]:
            page = qs.filter(id__lt=before) if before else qs
            return [(a.id, _alert_row(a)) for a in page[:ROWS_PER_READ]]

        return csv_response(stream_rows(ALERT_HEADER, fetch, per_read=ROWS_PER_READ), "alerts.csv")


def _alert_row(a) -> list:
    return [
        a.uid, a.team.slug, a.status, a.severity, a.summary, a.service.name if a.service_id else "", a.source,
        orjson.dumps(a.labels, option=orjson.OPT_SORT_KEYS).decode(), iso(a.first_seen), iso(a.last_seen),
        iso(a.acknowledged_at), iso(a.resolved_at), a.occurrences, a.incident.uid if a.incident_id else "",
    ]  # fmt: skip
