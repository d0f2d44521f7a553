"""CSV export of audit rows, streamed so a large log does not sit in memory."""

from __future__ import annotations

import csv
import json

from django.http import StreamingHttpResponse

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


class _Echo:
    def write(self, value: str) -> str:
        return value


def rows(queryset):
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in queryset.iterator(chunk_size=2000):
        yield writer.writerow(
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
