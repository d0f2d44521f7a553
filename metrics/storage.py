"""Physical storage of samples and rollups: schema, partitions, rollup refresh and retention.

Two layouts behind one set of relation names (`metrics_sample`, `metrics_rollup_1m`,
`metrics_rollup_1h`, `metrics_rollup_dirty`), so readers never care which one is in use:

- plain PostgreSQL: samples in daily native range partitions keyed by (series_id, ts), plus a
  default partition for anything outside the maintained range; rollup tables recomputed by Celery
  from the "dirty hours" marks that ingest writes in the same transaction as the samples.
- TimescaleDB (metrics/timescale.py): samples in a hypertable with one-day chunks, columnstore
  segmented by series, retention policies, and continuous aggregates for rollups (the 1-hour one
  built on the 1-minute one). Ingest writes the same dirty marks; the refresh task refreshes
  exactly the touched hours with `refresh_continuous_aggregate`.

`layout()` is the one switch: migration 0002 picks the layout once (metrics/timescale.py
`layout_choose`), and everything after it, tests included, asks the database which one it got.
See docs/architecture.md for the measurements behind these choices.
"""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
from django.db import connection

RAW_PARTITION = "metrics_sample_p{day:%Y%m%d}"
PARTITION_LOCK_KEY = 0x48495645  # pg_advisory_xact_lock key for partition DDL ("HIVE")
PLAIN = "plain"
TIMESCALEDB = "timescaledb"

_layout: str | None = None
layout_chosen: list[str] = []  # what migration 0002 chose in this process, for migrate's output


def layout_detect(cursor) -> str:
    """`plain` when metrics_sample is a natively partitioned table, `timescaledb` otherwise (a
    hypertable is an ordinary table to PostgreSQL's catalog)."""
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass('metrics_sample')")
    row = cursor.fetchone()
    return PLAIN if row is None or row[0] == "p" else TIMESCALEDB


def layout() -> str:
    """The storage layout of this database, `plain` or `timescaledb` (read once per process)."""
    global _layout
    if _layout is None:
        with connection.cursor() as cursor:
            _layout = layout_detect(cursor)
    return _layout


def timescale_enabled() -> bool:
    """Whether samples live in a hypertable."""
    return layout() == TIMESCALEDB


def layout_reason(cursor) -> str:
    """Why migration 0002 chose the layout (kept as the comment of metrics_sample)."""
    cursor.execute("SELECT obj_description(to_regclass('metrics_sample'), 'pg_class')")
    row = cursor.fetchone()
    return (row and row[0]) or ""


PLAIN_SCHEMA = """
CREATE TABLE metrics_sample (
    series_id bigint NOT NULL,
    ts timestamptz NOT NULL,
    value double precision NOT NULL,
    PRIMARY KEY (series_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE metrics_sample_default PARTITION OF metrics_sample DEFAULT;
CREATE TABLE metrics_rollup_1m (
    series_id bigint NOT NULL,
    bucket timestamptz NOT NULL,
    min double precision NOT NULL,
    max double precision NOT NULL,
    avg double precision NOT NULL,
    count bigint NOT NULL,
    last double precision NOT NULL,
    PRIMARY KEY (series_id, bucket)
);
CREATE TABLE metrics_rollup_1h (LIKE metrics_rollup_1m INCLUDING ALL);
"""

# Hours whose rollups must be recomputed, on both layouts: filled by ingest in the samples'
# transaction, drained by metrics.tasks.refresh_rollups, and read by query_range, which answers
# marked hours from raw samples until they are refreshed. Append-only marks (no unique key):
# concurrent batches never wait on each other, and a mark of a batch still in flight is invisible
# to the refresh until it commits, so it is never lost. The index serves query_range's lookup.
DIRTY_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics_rollup_dirty (
    series_id bigint NOT NULL,
    hour timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_rollup_dirty_series_hour ON metrics_rollup_dirty (series_id, hour);
"""


def plain_schema_create(cursor, *, raw_days: int) -> None:
    cursor.execute(PLAIN_SCHEMA)
    cursor.execute(DIRTY_SCHEMA)
    partitions_ensure(cursor, days_back=raw_days, days_ahead=3)


def layout_prepare(cursor, *, days_back: int, days_ahead: int) -> list[str]:
    """What beat's maintenance would have done by now: daily partitions on the plain layout
    (tests, benches and fault clusters reuse databases across days); nothing on TimescaleDB,
    whose chunks are created on insert."""
    if layout_detect(cursor) != PLAIN:
        return []
    return partitions_ensure(cursor, days_back=days_back, days_ahead=days_ahead)


def samples_truncate(cursor) -> None:
    """Empty samples, rollups and dirty marks on either layout (tests and benches).

    A continuous aggregate is truncated on its own (TimescaleDB resets its watermark then), the
    hierarchical 1-hour one first."""
    if layout_detect(cursor) == PLAIN:
        cursor.execute("TRUNCATE metrics_sample, metrics_rollup_1m, metrics_rollup_1h, metrics_rollup_dirty")
        return
    for relation in ("metrics_rollup_dirty", "metrics_sample", "metrics_rollup_1h", "metrics_rollup_1m"):
        cursor.execute(f"TRUNCATE {relation}")


def _day(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def existing_partitions(cursor) -> set[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'metrics_sample'::regclass"
    )
    return {row[0] for row in cursor.fetchall()}


def partitions_ensure(cursor, *, days_back: int, days_ahead: int, now: datetime | None = None) -> list[str]:
    """Create the daily partitions from days_back ago to days_ahead ahead. Idempotent.

    Rows that already sit in the default partition for a new day are moved into it, so a
    worker that was down for a while never blocks partition creation.
    """
    today = _day(now or datetime.now(UTC))
    wanted = [today + td(days=offset) for offset in range(-days_back, days_ahead + 1)]
    have = existing_partitions(cursor)
    missing = [day for day in wanted if RAW_PARTITION.format(day=day) not in have]
    if not missing:
        return []
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITION_LOCK_KEY])
    have = existing_partitions(cursor)
    created = []
    for day in missing:
        name = RAW_PARTITION.format(day=day)
        if name in have:
            continue
        start, end = day, day + td(days=1)
        cursor.execute(f"CREATE TABLE {name} (LIKE metrics_sample INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (series_id, ts)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM metrics_sample_default WHERE ts >= %s AND ts < %s RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved",
            [start, end],
        )
        cursor.execute(f"ALTER TABLE metrics_sample ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [start, end])
        created.append(name)
    return created


def partitions_drop_before(cursor, *, cutoff: datetime) -> list[str]:
    """Drop daily partitions that end at or before cutoff; delete older rows from the default."""
    dropped = []
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITION_LOCK_KEY])
    for name in sorted(existing_partitions(cursor)):
        if not name.startswith("metrics_sample_p"):
            continue
        day = datetime.strptime(name.removeprefix("metrics_sample_p"), "%Y%m%d").replace(tzinfo=UTC)
        if day + td(days=1) <= cutoff:
            cursor.execute(f"DROP TABLE {name}")
            dropped.append(name)
    cursor.execute("DELETE FROM metrics_sample_default WHERE ts < %s", [cutoff])
    return dropped


# Claims a batch of dirty hours, recomputes their 1-minute buckets from raw samples and their
# 1-hour buckets from those, in one statement. SKIP LOCKED lets several workers share the work.
ROLLUP_REFRESH_SQL = """
WITH taken AS (
    DELETE FROM metrics_rollup_dirty
    WHERE ctid = ANY(ARRAY(SELECT ctid FROM metrics_rollup_dirty LIMIT %(limit)s FOR UPDATE SKIP LOCKED))
    RETURNING series_id, hour
),
claimed AS (SELECT DISTINCT series_id, hour FROM taken),
minutes AS (
    INSERT INTO metrics_rollup_1m AS r (series_id, bucket, min, max, avg, count, last)
    SELECT s.series_id, date_trunc('minute', s.ts), min(s.value), max(s.value), avg(s.value), count(*),
           (array_agg(s.value ORDER BY s.ts DESC))[1]
    FROM claimed c
    JOIN metrics_sample s ON s.series_id = c.series_id AND s.ts >= c.hour AND s.ts < c.hour + INTERVAL '1 hour'
    GROUP BY 1, 2
    ON CONFLICT (series_id, bucket) DO UPDATE SET
        min = EXCLUDED.min, max = EXCLUDED.max, avg = EXCLUDED.avg, count = EXCLUDED.count, last = EXCLUDED.last
    RETURNING r.series_id, r.bucket, r.min, r.max, r.avg, r.count, r.last
),
hours AS (
    INSERT INTO metrics_rollup_1h AS r (series_id, bucket, min, max, avg, count, last)
    SELECT series_id, date_trunc('hour', bucket), min(min), max(max), sum(avg * count) / sum(count), sum(count),
           (array_agg(last ORDER BY bucket DESC))[1]
    FROM minutes
    GROUP BY 1, 2
    ON CONFLICT (series_id, bucket) DO UPDATE SET
        min = EXCLUDED.min, max = EXCLUDED.max, avg = EXCLUDED.avg, count = EXCLUDED.count, last = EXCLUDED.last
    RETURNING 1
)
SELECT (SELECT count(*) FROM taken), (SELECT count(*) FROM minutes), (SELECT count(*) FROM hours)
"""


def rollups_refresh_batch(cursor, *, limit: int) -> tuple[int, int, int]:
    """Refresh up to `limit` dirty marks. Returns (marks taken, 1m rows, 1h rows).

    JIT is off for this statement: compiling it cost more than running it (measured 2.2 s of
    2.6 s on a 200-hour batch; see docs/architecture.md)."""
    cursor.execute("SET LOCAL jit = off")
    cursor.execute(ROLLUP_REFRESH_SQL, {"limit": limit})
    claimed, minutes, hours = cursor.fetchone()
    return int(claimed), int(minutes), int(hours)


def touched_hours(sid: np.ndarray, ts_us: np.ndarray) -> tuple[list[int], list[int]]:
    """The distinct (series id, hour number since the epoch) pairs of a batch's rows."""
    hours = ts_us // 3_600_000_000
    base = int(hours.min())
    pairs = np.unique((sid << 22) | (hours - base))
    return (pairs >> 22).tolist(), ((pairs & ((1 << 22) - 1)) + base).tolist()


def touched_record(cursor, *, sid: np.ndarray, ts_us: np.ndarray) -> None:
    """Mark the (series, hour) ranges a batch wrote, in the batch's transaction (both layouts)."""
    dirty_sids, dirty_hours = touched_hours(sid, ts_us)
    cursor.execute(
        "INSERT INTO metrics_rollup_dirty (series_id, hour) "
        "SELECT s, to_timestamp(h * 3600) FROM unnest(%s::bigint[], %s::bigint[]) AS x(s, h)",
        [dirty_sids, dirty_hours],
    )


def rollups_pending(cursor) -> int:
    cursor.execute("SELECT count(*) FROM metrics_rollup_dirty")
    return int(cursor.fetchone()[0])


def rollups_delete_before(cursor, *, cutoff: datetime) -> int:
    """Delete rollup rows older than cutoff (runs hourly from beat, so each run is small)."""
    total = 0
    for table in ("metrics_rollup_1m", "metrics_rollup_1h"):
        cursor.execute(f"DELETE FROM {table} WHERE bucket < %s", [cutoff])
        total += cursor.rowcount
    return total
