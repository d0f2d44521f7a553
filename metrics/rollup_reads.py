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

# One row per rollup bucket, with the rollup table's columns, for `series_id` in [start, end).
# Dirty hours are replaced by the same aggregates computed from raw samples.
SOURCE_SQL = """
WITH dirty AS MATERIALIZED (
    SELECT DISTINCT hour FROM metrics_rollup_dirty
    WHERE series_id = %(sid)s AND hour > %(start)s - INTERVAL '1 hour' AND hour < %(end)s
),
src AS (
    SELECT r.bucket, r.min, r.max, r.avg, r.count, r.last
    FROM {table} r
    WHERE r.series_id = %(sid)s AND r.bucket >= %(start)s AND r.bucket < %(end)s
      AND NOT EXISTS (
          SELECT 1 FROM dirty d WHERE d.hour = date_bin(INTERVAL '1 hour', r.bucket, TIMESTAMPTZ 'epoch')
      )
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


def range_sql(*, source: str, expr: str) -> str:
    """`query_range`'s statement over a rollup source (`1m` or `1h`): step buckets of `expr`."""
    head = SOURCE_SQL.format(table=f"metrics_rollup_{source}", width=WIDTHS[source])
    return (
        head + f"SELECT floor(extract(epoch FROM bucket) / %(step)s)::bigint * %(step)s AS b, {expr} "
        "FROM src GROUP BY b ORDER BY b"
    )
