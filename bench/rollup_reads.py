"""Cost of answering unrefreshed hours from raw samples (metrics/rollup_reads.py), as ratios.

query_range over 1-minute rollups (3 days at 5-minute steps, avg) on `--series` series with
7 days of rollups and 3 days of raw samples, written directly. Timed in the same run:
- baseline: the statement before the marks check (rollup table only);
- marks-aware statement, series without marks (the usual case);
- marks-aware statement, series with every hour of the range marked (a fresh backfill: all of it
  aggregated from raw samples).
Its own database (`hiveops_rollupreadbench`), filled once. Plain layout only: on TimescaleDB the
rollups are continuous aggregates and cannot be written directly (the bench says so and stops).

    .venv/bin/python bench/rollup_reads.py --json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import add_common_arguments, check_isolation, emit, ensure_database, log, setup_django

DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_rollupreadbench"
BASELINE_SQL = (
    "SELECT floor(extract(epoch FROM bucket) / %(step)s)::bigint * %(step)s AS b, {expr} FROM metrics_rollup_1m "
    "WHERE series_id = %(sid)s AND bucket >= %(start)s AND bucket < %(end)s GROUP BY b ORDER BY b"
)


def fill(cursor, series: int, end: int) -> None:
    """7 days of 1-minute rollups for every series, 3 days of samples, marks on the second half."""
    cursor.execute("SELECT count(*) FROM metrics_rollup_1m")
    if cursor.fetchone()[0]:
        return
    log(f"writing {series * 7 * 1440:,} rollup rows and {series * 3 * 1440:,} samples")
    week, days3, last = (datetime.fromtimestamp(t, UTC) for t in (end - 7 * 86400, end - 3 * 86400, end - 60))
    cursor.execute(
        "INSERT INTO metrics_rollup_1m SELECT s, b, 1, 2, 1.5, 60, 1 FROM generate_series(1, %s) s, "
        "generate_series(%s::timestamptz, %s::timestamptz, '1 minute') b",
        [series, week, last],
    )
    cursor.execute(
        "INSERT INTO metrics_sample SELECT s, b, 1.5 FROM generate_series(1, %s) s, "
        "generate_series(%s::timestamptz, %s::timestamptz, '1 minute') b",
        [series, days3, last],
    )
    cursor.execute(
        "INSERT INTO metrics_rollup_dirty SELECT s, to_timestamp(h * 3600) FROM generate_series(%s, %s) s, "
        "generate_series(%s, %s) h",
        [series // 2 + 1, series, (end - 3 * 86400) // 3600, end // 3600 - 1],
    )
    cursor.execute("ANALYZE")


def timed(read, sid: int, start: int, end: int) -> float:
    params = {
        "step": 300,
        "sid": sid,
        "start": datetime.fromtimestamp(start, UTC),
        "end": datetime.fromtimestamp(end, UTC),
    }
    started = time.perf_counter()
    read(params)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--series", type=int, default=100)
    parser.set_defaults(database_url=DATABASE_URL)
    args = parser.parse_args()
    check_isolation(args.database_url, args.port)
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    from metrics import rollup_reads, storage
    from metrics.selectors import ROLLUP_SQL

    if storage.timescale_enabled():
        raise SystemExit("plain layout only: continuous aggregates cannot be written directly")
    end = int(time.time()) // 3600 * 3600
    start = end - 3 * 86400
    clean = range(1, args.series // 2 + 1)
    marked = range(args.series // 2 + 1, args.series + 1)
    with connection.cursor() as cursor:
        fill(cursor, args.series, end)

        def baseline(params):
            cursor.execute(BASELINE_SQL.format(expr=ROLLUP_SQL["avg"]), params)
            return cursor.fetchall()

        def marks_aware(params):  # what query_range runs
            return rollup_reads.range_rows(cursor, source="1m", expr=ROLLUP_SQL["avg"], params=params)

        for read in (baseline, marks_aware):  # warm the cache
            [timed(read, sid, start, end) for sid in clean]
        cases = (("baseline", baseline, clean), ("no_marks", marks_aware, clean), ("all_marked", marks_aware, marked))
        p50 = {
            name: statistics.median(timed(read, sid, start, end) for sid in sids for _ in range(3))
            for name, read, sids in cases
        }
    result = {
        "bench": "rollup_reads",
        "series": args.series,
        "p50_ms": {name: round(value * 1000, 2) for name, value in p50.items()},
        "ratio_no_marks_vs_baseline": round(p50["no_marks"] / p50["baseline"], 2),
        "ratio_all_marked_vs_baseline": round(p50["all_marked"] / p50["baseline"], 2),
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
