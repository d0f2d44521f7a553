"""CSV export of audit rows, streamed so a large log does not sit in memory (through the shared
writer, core.csvexport: actor names and object text come from users)."""

from __future__ import annotations

import json

from django.http import StreamingHttpResponse

from core.csvexport import CsvWriter

COLUMNS = [
    "at",
    "team_id",
    "actor_name",
    "actor_id",
    "source_ip",
    "via",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
]


def rows(queryset):
    writer = CsvWriter()
    yield writer.line(COLUMNS)
    for event in queryset.iterator(chunk_size=2000):
        yield writer.line(
            [
                event.at.isoformat(),
                event.team_id,
                event.actor_name,
                event.actor_id,
                event.source_ip,
                event.via,
                event.action,
                event.object_type,
                event.object_id,
                event.object_repr,
                json.dumps(event.before, sort_keys=True) if event.before is not None else "",
                json.dumps(event.after, sort_keys=True) if event.after is not None else "",
            ]
        )


def csv_response(queryset, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(rows(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
