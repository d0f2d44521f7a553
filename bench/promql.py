"""PromQL over rollups: a 30-day `query_range` at a 1 h step through the /prometheus engine,
over a data set of 1,000 series' hourly rollups, in-process.

    .venv/bin/python bench/promql.py --json          # database hiveops_bench_promql

Goal (issue 19): <= 50 ms p95 for a selector of one series out of the 1,000 (what a Grafana
panel of one metric asks). Also timed: `sum(...)` over all 1,000 series, and a `rate` over
raw samples of one series for the last day. Baseline in the same run: HiveOps' own
`query_range` of that one series (`agg=last`, the same rollup rows), so the figure is also a
ratio. The data set (hourly rollups only, labels `set=promql`) is kept between runs."""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import check_isolation, emit, ensure_database, log, percentile, setup_django

DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_bench_promql"
TEAM = "bench-promql"


def load(team_id: int, series: int, days: int, end_s: int) -> list[int]:
    from django.db import connection, transaction

    from metrics.models import Series

    existing = Series.objects.filter(team_id=team_id, metric="bench_promql").count()
    if existing < series:
        Series.objects.bulk_create(
            [
                Series(team_id=team_id, metric="bench_promql", labels={"set": "promql", "row": str(i)})
                for i in range(existing, series)
            ],
            ignore_conflicts=True,
        )
    ids = list(
        Series.objects.filter(team_id=team_id, metric="bench_promql").order_by("id").values_list("id", flat=True)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM metrics_rollup_1h WHERE series_id = ANY(%s)", [ids])
        cursor.execute(
            "INSERT INTO metrics_rollup_1h (series_id, bucket, min, max, avg, count, last)"
            " SELECT s, to_timestamp(h), r, r + 1, r + 0.5, 60, r + 0.25 FROM unnest(%s::bigint[]) s,"
            " generate_series(%s::bigint, %s::bigint, 3600) h, LATERAL (SELECT random() * 100 AS r) x",
            [ids, end_s - days * 86400 - 3600, end_s],
        )
        log(f"{cursor.rowcount:,} hourly rollup rows for {len(ids)} series")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE metrics_rollup_1h")  # as autovacuum would after such a load
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    check_isolation(args.database_url, 8101)
    ensure_database(args.database_url)
    setup_django(args.database_url)

    import numpy as np

    from core.teams.services import team_get_or_create
    from metrics.promql import engine
    from metrics.selectors import query_range

    team, _ = team_get_or_create(slug=TEAM)
    end_s = int(time.time()) // 3600 * 3600
    ids = load(team.id, args.series, args.days, end_s)
    start_s = end_s - args.days * 86400
    times = np.arange(start_s, end_s + 1, 3600, dtype=np.float64)
    rng = random.Random(1)
    timings: dict[str, list[float]] = {"one_series": [], "sum_all": [], "baseline": []}
    for i in range(args.requests + 5):
        row = rng.randrange(args.series)
        runs = {
            "one_series": lambda row=row: engine.evaluate(
                f'bench_promql{{set="promql", row="{row}"}}', team_ids=[team.id], times=times, step=3600
            ),
            "baseline": lambda row=row: query_range(
                series_id=ids[row], start_s=start_s, end_s=end_s, step=3600, agg="last"
            ),
        }
        if i % 5 == 0:
            runs["sum_all"] = lambda: engine.evaluate(
                'sum(bench_promql{set="promql"})', team_ids=[team.id], times=times, step=3600
            )
        for name, call in runs.items():
            started = time.perf_counter()
            result = call()
            elapsed = (time.perf_counter() - started) * 1000
            if name == "one_series":
                assert len(result.series) == 1, result
            if i >= 5 or (name == "sum_all" and i > 0):
                timings[name].append(elapsed)
    result = {
        "series": len(ids),
        "days": args.days,
        "points_per_series": len(times),
        "requests": args.requests,
    }
    for name, values in timings.items():
        result[f"{name}_p50_ms"] = round(percentile(values, 50), 2)
        result[f"{name}_p95_ms"] = round(percentile(values, 95), 2)
    result["one_series_vs_baseline_p95"] = round(result["one_series_p95_ms"] / result["baseline_p95_ms"], 2)
    result["goal_p95_ms"] = 50
    result["meets_goal"] = result["one_series_p95_ms"] <= 50
    emit(result, args.json)


if __name__ == "__main__":
    main()
