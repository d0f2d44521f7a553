"""Reads of metric data: the only read path other apps use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import connection
from django.db.models import QuerySet

from metrics import rollup_reads
from metrics.matchers import Matcher, matches_all
from metrics.models import Series

AGGREGATIONS = ("avg", "min", "max", "last", "count", "p95")
MAX_BUCKETS = 11_000
RAW_MAX_RANGE_S = 6 * 3600  # longer ranges read rollups (when the step allows)


class QueryError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class RangeResult:
    source: str  # raw, 1m or 1h
    step: int
    points: list[tuple[int, float | None]]


def series_for_teams(*, team_ids: list[int]) -> QuerySet[Series]:
    return Series.objects.filter(team_id__in=team_ids).select_related("team")


def series_list(
    *,
    team_ids: list[int],
    metric: str | None = None,
    labels: dict[str, str] | None = None,
    matchers: list[Matcher] | None = None,
) -> QuerySet[Series]:
    """Series by metric, exact labels and label matchers, as a queryset (for pagination)."""
    qs = series_for_teams(team_ids=team_ids)
    if metric:
        qs = qs.filter(metric=metric)
    if labels:
        qs = qs.filter(labels__contains=labels)
    qs, rest = _sql_matchers(qs, matchers or [])
    if rest:
        rows = qs.values_list("id", "metric", "labels").iterator(chunk_size=2000)
        ids = [sid for sid, metric, labels in rows if matches_all(rest, {**labels, "__name__": metric})]
        qs = series_for_teams(team_ids=team_ids).filter(id__in=ids)
    return qs.order_by("metric", "id")


def _sql_matchers(qs: QuerySet[Series], matchers: list[Matcher]) -> tuple[QuerySet[Series], list[Matcher]]:
    """Only what the indexes answer exactly goes to SQL (metric equality, non-empty label
    equality as JSON containment); the rest is returned to run in Python with RE2, so a
    user's pattern never reaches PostgreSQL's backtracking regex engine."""
    rest = []
    for m in matchers:
        if m.op == "=" and m.name == "__name__":
            qs = qs.filter(metric=m.value)
        elif m.op == "=" and m.value:
            qs = qs.filter(labels__contains={m.name: m.value})
        else:
            rest.append(m)
    return qs, rest


def _keeps(matchers: list[Matcher], series: Series) -> bool:
    return matches_all(matchers, {**series.labels, "__name__": series.metric})


def series_matching(*, team_ids: list[int], matchers: list[Matcher], limit: int | None = None) -> list[Series]:
    """The caller's series selected by label matchers (`__name__` is the metric), in id order.
    `limit`: at most that many plus one are returned, so the caller can say "too many"."""
    qs, rest = _sql_matchers(series_for_teams(team_ids=team_ids), matchers)
    out = []
    for series in qs.order_by("id").iterator(chunk_size=2000):
        if rest and not _keeps(rest, series):
            continue
        out.append(series)
        if limit is not None and len(out) > limit:
            break
    return out


def choose_source(*, start_s: int, end_s: int, step: int, agg: str) -> str:
    """Raw samples for short ranges; rollups whose bucket divides the step for long ones."""
    span = end_s - start_s
    if step < 60 or span <= RAW_MAX_RANGE_S or (agg == "p95" and span <= 7 * 86400):
        return "raw"
    if step % 3600 == 0 and agg != "p95":
        return "1h"
    if step % 60 == 0:
        return "1m"
    return "raw"


RAW_SQL = {
    "avg": "avg(value)",
    "min": "min(value)",
    "max": "max(value)",
    "count": "count(*)",
    "last": "(array_agg(value ORDER BY ts DESC))[1]",
    "p95": "percentile_cont(0.95) WITHIN GROUP (ORDER BY value)",
}
ROLLUP_SQL = {
    "avg": "sum(avg * count) / nullif(sum(count), 0)",
    "min": "min(min)",
    "max": "max(max)",
    "count": "sum(count)",
    "last": "(array_agg(last ORDER BY bucket DESC))[1]",
    # Approximation over long ranges: the 95th percentile of the 1-minute averages.
    "p95": "percentile_cont(0.95) WITHIN GROUP (ORDER BY avg)",
}


def query_range(*, series_id: int, start_s: int, end_s: int, step: int, agg: str) -> RangeResult:
    """Aligned buckets [start, end] of `step` seconds (aligned to the epoch); empty ones are None."""
    if agg not in AGGREGATIONS:
        raise QueryError("agg", f"must be one of {', '.join(AGGREGATIONS)}")
    if step <= 0:
        raise QueryError("step", "must be positive")
    if end_s < start_s:
        raise QueryError("end", "must not be before start")
    first = start_s - start_s % step
    if (end_s - first) // step + 1 > MAX_BUCKETS:
        raise QueryError("step", f"too many buckets; at most {MAX_BUCKETS} (raise the step)")
    source = choose_source(start_s=start_s, end_s=end_s, step=step, agg=agg)
    sql = (
        f"SELECT floor(extract(epoch FROM ts) / %(step)s)::bigint * %(step)s AS b, {RAW_SQL[agg]} "
        "FROM metrics_sample WHERE series_id = %(sid)s AND ts >= %(start)s AND ts < %(end)s "
        "GROUP BY b ORDER BY b"
    )
    params = {
        "step": step,
        "sid": series_id,
        "start": datetime.fromtimestamp(first, UTC),
        "end": datetime.fromtimestamp(end_s - end_s % step + step, UTC),
    }
    with connection.cursor() as cursor:
        if source == "raw":
            cursor.execute(sql, params)
            found = dict(cursor.fetchall())
        else:  # hours not rolled up yet (backfill, late points) come from raw samples
            found = dict(rollup_reads.range_rows(cursor, source=source, expr=ROLLUP_SQL[agg], params=params))
    points = []
    for bucket in range(first, end_s + 1, step):
        value = found.get(bucket)
        if value is None and agg == "count":
            value = 0
        points.append((bucket, None if value is None else float(value)))
    return RangeResult(source=source, step=step, points=points)


def series_latest(*, series_ids: list[int]) -> dict[int, tuple[datetime, float]]:
    """The newest sample of each series (one index probe per series)."""
    if not series_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT x.sid, l.ts, l.value FROM unnest(%s::bigint[]) AS x(sid) "
            "CROSS JOIN LATERAL (SELECT ts, value FROM metrics_sample WHERE series_id = x.sid "
            "ORDER BY ts DESC LIMIT 1) l",
            [series_ids],
        )
        return {sid: (ts, value) for sid, ts, value in cursor.fetchall()}


def samples_window(
    *, series_ids: list[int], start: datetime, end: datetime
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Raw samples of several series in [start, end] as (unix seconds, values) arrays."""
    if not series_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT series_id, array_agg(extract(epoch FROM ts)::float8 ORDER BY ts), array_agg(value ORDER BY ts) "
            "FROM metrics_sample WHERE series_id = ANY(%s) AND ts >= %s AND ts <= %s GROUP BY series_id",
            [series_ids, start, end],
        )
        return {sid: (np.asarray(ts, dtype=np.float64), np.asarray(vals)) for sid, ts, vals in cursor.fetchall()}


def series_by_ids(*, series_ids: list[int]) -> QuerySet[Series]:
    return Series.objects.filter(id__in=series_ids)


ROLLUP_TABLES = {"1m": "metrics_rollup_1m", "1h": "metrics_rollup_1h"}


def buckets_many(
    *, series_ids: list[int], start: datetime, end: datetime, step_s: int, source: str = "1m", how: str = "avg"
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per-series (bucket start, value) arrays of `step_s` buckets built from a rollup table,
    for several series in one query. `how` is avg (count-weighted) or max. Empty buckets are
    absent, so callers see gaps."""
    if not series_ids:
        return {}
    table = ROLLUP_TABLES[source]
    value = {"avg": "sum(avg * count) / nullif(sum(count), 0)", "max": "max(max)"}[how]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT series_id, array_agg(b ORDER BY b), array_agg(v ORDER BY b) FROM ("
            # float8, not numeric (what extract() gives): half the wall time and Python CPU of
            # reading 1,000 series × 35 days of hours (capacity's fleet run), same values.
            f" SELECT series_id, (floor(extract(epoch FROM bucket) / %s) * %s)::float8 AS b, {value} AS v"
            f" FROM {table} WHERE series_id = ANY(%s) AND bucket >= %s AND bucket < %s GROUP BY 1, 2"
            ") x WHERE v IS NOT NULL GROUP BY series_id",
            [step_s, step_s, series_ids, start, end],
        )
        return {
            sid: (np.asarray(ts, dtype=np.float64), np.asarray(vals, dtype=np.float64))
            for sid, ts, vals in cursor.fetchall()
        }
