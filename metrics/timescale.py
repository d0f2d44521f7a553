"""The TimescaleDB layout: choosing it, its schema, refreshing touched hours, and job health.

Written against the TimescaleDB 2.18+ documentation (columnstore names) with the pre-2.18 names
as a fallback; it cannot run on the machines HiveOps is developed on, so every test of it skips
there (tests/metrics/test_timescale.py). What was checked where: docs/architecture.md.

- **Choice** (`layout_choose`, migration 0002): TimescaleDB only when the server can really do
  it: the extension is installed, the library is in `shared_preload_libraries`, and
  `CREATE EXTENSION` succeeds (tried in a savepoint). `HIVEOPS_STORAGE_LAYOUT=plain` forces the
  plain layout; `timescaledb` makes migrate fail with the reason when it is not possible.
- **Freshness**: ingest marks the (series, hour) ranges it wrote in `metrics_rollup_dirty` (as on
  the plain layout). `refresh_touched` refreshes exactly those hours with
  `refresh_continuous_aggregate`, which cannot run inside a transaction, so it runs from the
  Celery task in autocommit. Until a mark is gone, `query_range` answers that hour from raw
  samples (metrics/rollup_reads.py), so backfills below the aggregates' watermark and late points
  into materialised hours are right at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import timedelta as td

from django.db import DatabaseError, transaction

from metrics import storage

logger = logging.getLogger(__name__)

CHUNK_INTERVAL = "1 day"
COLUMNSTORE_AFTER = "2 days"
REFRESH_LOCK_KEY = 0x48495646  # pg_try_advisory_lock key of the touched-hours refresh ("HIVF")
LAYOUT_CHOICES = ("auto", storage.PLAIN, storage.TIMESCALEDB)


@dataclass(frozen=True, slots=True)
class LayoutChoice:
    layout: str
    reason: str


class LayoutUnavailable(RuntimeError):
    """HIVEOPS_STORAGE_LAYOUT=timescaledb on a server that cannot provide it."""


def preloaded(shared_preload_libraries: str) -> bool:
    """Whether the setting's value lists the timescaledb library (by name or path)."""
    for entry in shared_preload_libraries.split(","):
        name = entry.strip().strip('"').rsplit("/", 1)[-1]
        if name == "timescaledb" or name.startswith("timescaledb-"):
            return True
    return False


def _blocker(cursor) -> str | None:
    """Why TimescaleDB cannot be used here, or None when it can (the extension is then created)."""
    cursor.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'")
    row = cursor.fetchone()
    if row is None:
        return "the timescaledb extension is not installed on this PostgreSQL server"
    cursor.execute("SHOW shared_preload_libraries")
    if not preloaded(cursor.fetchone()[0] or ""):
        return "timescaledb is installed but not in shared_preload_libraries"
    try:
        with transaction.atomic(using=cursor.db.alias):  # a savepoint inside the migration
            cursor.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except DatabaseError as exc:
        return f"CREATE EXTENSION timescaledb failed: {str(exc).strip().splitlines()[0]}"
    return None


def layout_choose(cursor, *, forced: str = "auto") -> LayoutChoice:
    """The layout migration 0002 builds, and why. Creates the extension when it picks TimescaleDB."""
    if forced not in LAYOUT_CHOICES:
        raise LayoutUnavailable(f"HIVEOPS_STORAGE_LAYOUT must be one of {', '.join(LAYOUT_CHOICES)}, not {forced!r}")
    if forced == storage.PLAIN:
        return LayoutChoice(storage.PLAIN, "HIVEOPS_STORAGE_LAYOUT=plain")
    blocker = _blocker(cursor)
    if blocker is None:
        version = ".".join(map(str, extension_version(cursor)))
        return LayoutChoice(storage.TIMESCALEDB, f"timescaledb {version} is preloaded and the extension was created")
    if forced == storage.TIMESCALEDB:
        raise LayoutUnavailable(f"HIVEOPS_STORAGE_LAYOUT=timescaledb, but {blocker}")
    return LayoutChoice(storage.PLAIN, blocker)


def extension_version(cursor) -> tuple[int, ...]:
    cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    row = cursor.fetchone()
    if row is None:
        return ()
    return tuple(int(part) for part in row[0].split("-")[0].split(".") if part.isdigit())


@dataclass(frozen=True, slots=True)
class Features:
    columnstore: bool  # 2.18+: enable_columnstore / add_columnstore_policy
    hierarchical: bool  # 2.9+: a continuous aggregate on a continuous aggregate


def features(version: tuple[int, ...]) -> Features:
    return Features(columnstore=version >= (2, 18), hierarchical=version >= (2, 9))


ROLLUP_COLUMNS = "min(value) AS min, max(value) AS max, avg(value) AS avg, count(*) AS count, last(value, ts) AS last"
# Built on the 1-minute aggregate: exact for min, max, count, last and the count-weighted average.
ROLLUP_FROM_MINUTES = (
    "min(min) AS min, max(max) AS max, sum(avg * count) / sum(count) AS avg, sum(count) AS count, "
    "last(last, bucket) AS last"
)


def schema_statements(found: Features, *, raw_days: int, rollup_days: int) -> list[str]:
    """The hypertable, columnstore, retention, both continuous aggregates and their policies."""
    hypertable = (
        f"SELECT create_hypertable('metrics_sample', by_range('ts', INTERVAL '{CHUNK_INTERVAL}'))"
        if found.columnstore
        else f"SELECT create_hypertable('metrics_sample', 'ts', chunk_time_interval => INTERVAL '{CHUNK_INTERVAL}')"
    )
    if found.columnstore:
        compress = [
            "ALTER TABLE metrics_sample SET (timescaledb.enable_columnstore = true, "
            "timescaledb.segmentby = 'series_id', timescaledb.orderby = 'ts DESC')",
            f"CALL add_columnstore_policy('metrics_sample', after => INTERVAL '{COLUMNSTORE_AFTER}')",
        ]
    else:
        compress = [
            "ALTER TABLE metrics_sample SET (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'series_id', timescaledb.compress_orderby = 'ts DESC')",
            f"SELECT add_compression_policy('metrics_sample', compress_after => INTERVAL '{COLUMNSTORE_AFTER}')",
        ]
    hourly = ("metrics_rollup_1m", ROLLUP_FROM_MINUTES, "bucket")  # hierarchical: from the minutes
    if not found.hierarchical:
        hourly = ("metrics_sample", ROLLUP_COLUMNS, "ts")
    return [
        "CREATE TABLE metrics_sample (series_id bigint NOT NULL, ts timestamptz NOT NULL, "
        "value double precision NOT NULL, PRIMARY KEY (series_id, ts))",
        hypertable,
        *compress,
        f"SELECT add_retention_policy('metrics_sample', drop_after => INTERVAL '{raw_days} days')",
        _aggregate("metrics_rollup_1m", "1 minute", "metrics_sample", ROLLUP_COLUMNS, "ts"),
        _aggregate("metrics_rollup_1h", "1 hour", *hourly),
        # Safety nets behind the touched-hours refresh (refresh_touched), which does the real work.
        "SELECT add_continuous_aggregate_policy('metrics_rollup_1m', start_offset => INTERVAL '3 hours', "
        "end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute')",
        "SELECT add_continuous_aggregate_policy('metrics_rollup_1h', start_offset => INTERVAL '1 day', "
        "end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes')",
        f"SELECT add_retention_policy('metrics_rollup_1m', drop_after => INTERVAL '{rollup_days} days')",
        f"SELECT add_retention_policy('metrics_rollup_1h', drop_after => INTERVAL '{rollup_days} days')",
    ]


def _aggregate(name: str, width: str, source: str, columns: str, time_column: str) -> str:
    """A real-time continuous aggregate, created WITH NO DATA (allowed inside a transaction)."""
    bucket = f"time_bucket(INTERVAL '{width}', {time_column})"
    return (
        f"CREATE MATERIALIZED VIEW {name} "
        "WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS "
        f"SELECT series_id, {bucket} AS bucket, {columns} FROM {source} GROUP BY series_id, {bucket} "
        "WITH NO DATA"
    )


def schema_create(cursor, *, raw_days: int, rollup_days: int, reason: str) -> Features:
    found = features(extension_version(cursor))
    for statement in schema_statements(found, raw_days=raw_days, rollup_days=rollup_days):
        cursor.execute(statement)
    cursor.execute(storage.DIRTY_SCHEMA)
    cursor.execute("COMMENT ON TABLE metrics_sample IS %s", [f"hiveops layout: timescaledb ({reason})"])
    return found


def windows(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Contiguous [start, end) hour windows covering the given hour starts."""
    merged: list[list[datetime]] = []
    for hour in sorted(set(hours)):
        if merged and merged[-1][1] == hour:
            merged[-1][1] = hour + td(hours=1)
        else:
            merged.append([hour, hour + td(hours=1)])
    return [(start, end) for start, end in merged]


# ctid and xmin name a mark exactly: a mark written later into a reused slot is not taken.
MARKS_SQL = "SELECT ctid, ctid::text || ':' || xmin::text, hour FROM metrics_rollup_dirty LIMIT %s"
MARKS_DELETE_SQL = (
    "DELETE FROM metrics_rollup_dirty WHERE ctid = ANY(%s::tid[]) AND ctid::text || ':' || xmin::text = ANY(%s)"
)


def refresh_touched(connection, *, limit: int = 20_000) -> int:
    """Refresh both aggregates over the hours ingest marked, then delete exactly those marks.

    Runs in autocommit (refresh_continuous_aggregate refuses a transaction block); returns the
    marks done, 0 when another worker holds the refresh or inside a transaction (tests): marks
    then stay, and reads keep answering those hours from raw samples. One worker at a time (an
    advisory lock): refreshing a window twice is harmless, only wasted."""
    if connection.in_atomic_block:
        logger.debug("refresh_touched skipped: inside a transaction")
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REFRESH_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return 0
        try:
            cursor.execute(MARKS_SQL, [limit])
            marks = cursor.fetchall()
            for start, end in windows([hour.astimezone(UTC) for _, _, hour in marks]):
                # The 1-hour aggregate reads the 1-minute one: refresh that first.
                cursor.execute("CALL refresh_continuous_aggregate('metrics_rollup_1m', %s, %s)", [start, end])
                cursor.execute("CALL refresh_continuous_aggregate('metrics_rollup_1h', %s, %s)", [start, end])
            cursor.execute(MARKS_DELETE_SQL, [[ctid for ctid, _, _ in marks], [key for _, key, _ in marks]])
            return len(marks)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK_KEY])


JOBS_SQL = """
SELECT j.job_id, j.proc_name, coalesce(j.hypertable_name, ''), s.last_run_started_at, s.last_successful_finish,
       s.last_run_status, coalesce(s.total_failures, 0), coalesce(s.total_runs, 0), s.next_start
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
ORDER BY j.job_id
"""


@dataclass(frozen=True, slots=True)
class JobHealth:
    job_id: int
    proc: str
    relation: str
    last_run: datetime | None
    last_success: datetime | None
    last_status: str | None
    failures: int
    runs: int
    next_start: datetime | None


def jobs_health(cursor) -> list[JobHealth]:
    """TimescaleDB's background jobs (policies) and their statistics; [] on the plain layout."""
    if storage.layout_detect(cursor) != storage.TIMESCALEDB:
        return []
    cursor.execute(JOBS_SQL)
    return [JobHealth(*row) for row in cursor.fetchall()]


def layout_create(cursor, *, forced: str, raw_days: int, rollup_days: int) -> LayoutChoice:
    """Migration 0002: choose the layout, build it, and keep the reason as metrics_sample's comment."""
    choice = layout_choose(cursor, forced=forced)
    if choice.layout == storage.TIMESCALEDB:
        schema_create(cursor, raw_days=raw_days, rollup_days=rollup_days, reason=choice.reason)
    else:
        storage.plain_schema_create(cursor, raw_days=raw_days)
        cursor.execute("COMMENT ON TABLE metrics_sample IS %s", [f"hiveops layout: plain ({choice.reason})"])
    logger.debug("metrics storage layout: %s (%s)", choice.layout, choice.reason)  # migrate prints it
    storage.layout_chosen.append(choice.layout + " (" + choice.reason + ")")
    return choice
