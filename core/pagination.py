"""List pages that stay fast on big tables: keyset cursors and capped counts.

`limit`/`offset` pages (DRF's LimitOffsetPagination, the API default) cost an exact COUNT(*) of
every match on each page, and a deep offset reads and throws away every row before it. With
100,000 resolved alerts those two dominated the list's time (docs/architecture.md, "Hot paths:
where the time goes"). `KeysetPagination` keeps `limit` and `offset` working as before and adds:

- `cursor`: an opaque token of the last row's sort key. `?cursor=<next_cursor>` continues after
  that row with an index range scan, however deep; `offset` is ignored with a cursor. Every page
  carries `next_cursor` (null on the last page), and `next` uses the cursor when the request did.
  Cursors go forward only (`previous` is null with a cursor).
- `count` is exact up to COUNT_CAP matches; above, it is COUNT_CAP and `count_capped` is true.
  `?count=exact` asks for the exact total (slower on big lists).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

COUNT_CAP = 10_000


def cursor_encode(when: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{pk}".encode()).decode().rstrip("=")


def cursor_decode(raw: str) -> tuple[datetime, int]:
    """(time, id) of a cursor, or a 400 naming the parameter."""
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        when, pk = text.split("|")
        parsed = datetime.fromisoformat(when)
        if parsed.tzinfo is None:
            raise ValueError(when)
        return parsed, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({"cursor": "not a cursor from this list's next_cursor"}) from None


MAX_OFFSET = 1_000_000_000


class KeysetPagination(LimitOffsetPagination):
    """For querysets ordered by (`time_field` descending, id descending), e.g. alerts by last_seen."""

    time_field = "last_seen"
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is not None and self.limit > MAX_OFFSET:
            raise ValidationError({"limit": f"must be at most {MAX_OFFSET}"})
        raw_cursor = request.query_params.get(self.cursor_query_param)
        self.use_cursor = raw_cursor is not None
        page_qs = queryset
        if self.use_cursor:
            when, pk = cursor_decode(raw_cursor)
            after = Q(**{f"{self.time_field}__lt": when}) | Q(**{self.time_field: when, "id__lt": pk})
            page_qs = queryset.filter(after)
            self.offset = 0
        else:
            self.offset = self.get_offset(request)
            if self.offset > MAX_OFFSET:  # PostgreSQL's OFFSET is a bigint; nobody pages this deep
                raise ValidationError({"offset": f"must be at most {MAX_OFFSET}; use cursor to page deep"})
        rows = list(page_qs[self.offset : self.offset + self.limit + 1])
        self.has_more = len(rows) > self.limit
        rows = rows[: self.limit]
        self.next_key = self.cursor_of(rows[-1]) if self.has_more else None
        if not self.use_cursor and not self.has_more and (rows or self.offset == 0):
            self.count, self.capped = self.offset + len(rows), False  # the whole list is known: no COUNT
        else:
            self.count, self.capped = self.capped_count(queryset, exact=request.query_params.get("count") == "exact")
        return rows

    def cursor_of(self, row) -> str:
        """Model instances or `.values()` dicts (which must include the time field and id)."""
        if isinstance(row, dict):
            return cursor_encode(row[self.time_field], row["id"])
        return cursor_encode(getattr(row, self.time_field), row.pk)

    @staticmethod
    def capped_count(queryset: QuerySet, *, exact: bool) -> tuple[int, bool]:
        plain = queryset.order_by()
        if exact:
            return plain.count(), False
        found = plain[: COUNT_CAP + 1].count()  # COUNT(*) over a LIMITed subquery
        return min(found, COUNT_CAP), found > COUNT_CAP

    def get_next_link(self):
        if not self.has_more:
            return None
        url = self.request.build_absolute_uri()
        if self.use_cursor:
            return replace_query_param(url, self.cursor_query_param, self.next_key)
        return super().get_next_link()

    def get_previous_link(self):
        if self.use_cursor:
            return None
        url = super().get_previous_link()
        return url if url is None else remove_query_param(url, self.cursor_query_param)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_capped": self.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "next_cursor": self.next_key,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        base = super().get_paginated_response_schema(schema)
        base["properties"]["count_capped"] = {"type": "boolean", "description": f"count stopped at {COUNT_CAP}"}
        base["properties"]["next_cursor"] = {
            "type": "string",
            "nullable": True,
            "description": "pass as ?cursor= for the next page (keyset, any depth)",
        }
        return base

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        params.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "next_cursor of the previous page; replaces offset",
                "schema": {"type": "string"},
            }
        )
        params.append(
            {
                "name": "count",
                "required": False,
                "in": "query",
                "description": f"'exact' for the exact total (otherwise capped at {COUNT_CAP})",
                "schema": {"type": "string", "enum": ["exact"]},
            }
        )
        return params
