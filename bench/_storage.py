"""Layout-aware helpers for benches that write rollups directly (metrics.storage.layout()).

On the plain layout rollup rows go straight into `metrics_rollup_1m` / `metrics_rollup_1h`. On
TimescaleDB those are continuous aggregates, which cannot be written: each staged rollup row
becomes one raw sample at its bucket (value = the row's avg) plus a dirty mark, so the aggregates
give the same avg/last (count 1; min/max are the avg), and query_range reads them at once.
"""

from __future__ import annotations

STAGE_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS bench_rollup_stage (series_id bigint, bucket timestamptz, "
    "min double precision, max double precision, avg double precision, count bigint, last double precision)"
)
COLUMNS = "series_id, bucket, min, max, avg, count, last"


def layout(cursor) -> str:
    """`plain` or `timescaledb`, as metrics.storage.layout_detect decides (works on a psycopg connection too)."""
    row = cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass('metrics_sample')").fetchone()
    return "plain" if row is None or row[0] == "p" else "timescaledb"


def rollups_stage(cursor) -> str:
    """An empty staging table with the rollup columns; returns its name."""
    cursor.execute(STAGE_DDL)
    cursor.execute("TRUNCATE bench_rollup_stage")
    return "bench_rollup_stage"


def rollups_from_stage(cursor, *, table: str) -> None:
    """Move the staged rows into `table` (plain) or into raw samples and marks (TimescaleDB)."""
    if layout(cursor) == "plain":
        cursor.execute(
            f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM bench_rollup_stage ON CONFLICT DO NOTHING"
        )
    else:
        cursor.execute(
            "INSERT INTO metrics_sample (series_id, ts, value) SELECT series_id, bucket, avg FROM bench_rollup_stage "
            "ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO metrics_rollup_dirty (series_id, hour) SELECT DISTINCT series_id, "
            "date_bin(INTERVAL '1 hour', bucket, TIMESTAMPTZ 'epoch') FROM bench_rollup_stage"
        )
    cursor.execute("TRUNCATE bench_rollup_stage")


def rollups_delete(cursor, *, table: str, where: str, params: list) -> None:
    """Delete bench rollups: rows of a plain rollup table; on TimescaleDB the raw samples behind them."""
    target = table if layout(cursor) == "plain" else "metrics_sample"
    cursor.execute(f"DELETE FROM {target} WHERE {where}", params)


def analyze(cursor, *tables: str) -> None:
    """VACUUM (ANALYZE) the plain rollup tables; on TimescaleDB the samples hypertable instead."""
    if layout(cursor) != "plain":
        tables = (*(t for t in tables if not t.startswith("metrics_rollup_1")), "metrics_sample")
    for table in dict.fromkeys(tables):
        cursor.execute(f"VACUUM (ANALYZE) {table}")
