"""Rollup reads that are right before the rollups are: hours with a pending dirty mark are
aggregated from raw samples instead of read from the rollup table.

Ingest marks every (series, hour) it writes in `metrics_rollup_dirty`, in the samples'
transaction; the refresh deletes a mark only when (plain: in the same transaction as) the
rollups of that hour are rewritten. So for any hour a reader sees either the mark, and reads raw
samples, or the refreshed rollup: a backfill, a late point into an hour already rolled up, or a
TimescaleDB aggregate whose watermark is above the written hour never shows a stale bucket.
The cost is one index probe on the marks per query, plus the raw rows of the marked hours.
"""

from __future__ import annotations

MARKS_SQL = """
SELECT DISTINCT hour FROM metrics_rollup_dirty
WHERE series_id = %(sid)s AND hour > %(start)s - INTERVAL '1 hour' AND hour < %(end)s
"""
# Rollup rows of `series_id` in [start, end), except the marked hours, which are aggregated the
# same way from raw samples.
SOURCE_SQL = """
WITH dirty AS (SELECT unnest(%(hours)s::timestamptz[]) AS hour),
src AS (
    SELECT r.bucket, r.min, r.max, r.avg, r.count, r.last
    FROM {table} r
    WHERE r.series_id = %(sid)s AND r.bucket >= %(start)s AND r.bucket < %(end)s
      AND date_bin(INTERVAL '1 hour', r.bucket, TIMESTAMPTZ 'epoch') <> ALL(%(hours)s::timestamptz[])
    UNION ALL
    SELECT date_bin(INTERVAL '{width}', s.ts, TIMESTAMPTZ 'epoch'), min(s.value), max(s.value), avg(s.value),
           count(*), (array_agg(s.value ORDER BY s.ts DESC))[1]
    FROM dirty d
    JOIN metrics_sample s ON s.series_id = %(sid)s AND s.ts >= d.hour AND s.ts < d.hour + INTERVAL '1 hour'
    WHERE s.ts >= %(start)s AND s.ts < %(end)s
    GROUP BY 1
)
"""
WIDTHS = {"1m": "1 minute", "1h": "1 hour"}
BUCKETS = "SELECT floor(extract(epoch FROM bucket) / %(step)s)::bigint * %(step)s AS b, {expr} FROM {source} "


def range_sql(*, source: str, expr: str, marked: bool) -> str:
    """`query_range`'s statement over a rollup source (`1m` or `1h`): step buckets of `expr`."""
    table = f"metrics_rollup_{source}"
    if not marked:
        return (
            BUCKETS.format(expr=expr, source=table)
            + "WHERE series_id = %(sid)s AND bucket >= %(start)s AND bucket < %(end)s GROUP BY b ORDER BY b"
        )
    head = SOURCE_SQL.format(table=table, width=WIDTHS[source])
    return head + BUCKETS.format(expr=expr, source="src") + "GROUP BY b ORDER BY b"


def range_rows(cursor, *, source: str, expr: str, params: dict) -> list[tuple]:
    """(bucket, value) rows: the rollup table alone when the series has no mark in the range (one
    index probe first; the usual case), else with the marked hours from raw samples.

    Two statements, each its own snapshot: an hour refreshed in between is read from raw samples
    (still right); an hour marked in between is read as it was before that write."""
    cursor.execute(MARKS_SQL, params)
    hours = [row[0] for row in cursor.fetchall()]
    cursor.execute(range_sql(source=source, expr=expr, marked=bool(hours)), {**params, "hours": hours})
    return cursor.fetchall()
