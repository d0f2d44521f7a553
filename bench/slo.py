"""Status of 1,000 SLOs (goal: <= 5 s), against baselines measured in the same run.

What it does (database hiveops_slobench — never `hiveops` or `test_hiveops*`; no server, no
Redis, everything in this process):

1. Creates/migrates the bench database. Unless already loaded (same SLO count; `--reload`
   forces it), creates team `slobench` with `--slos` SLOs: 70 % ratio (two cumulative counters
   each), 10 % latency (histogram buckets), 10 % availability, 10 % threshold; windows 30 d (40 %),
   28 d, 7 d, calendar month in Europe/Berlin (20 % each). It writes 32 days of recorded hours
   (alerts_slohour, 60 per-minute values per array, error ratios random per SLO, 0–0.05 %) with
   one INSERT … SELECT, and 1-minute rollups for the last 130 minutes of every SLO's series (what
   the incremental recording reads). The data end is hh:37, so rolling windows start mid-hour and
   edge hours are sliced. VACUUM (ANALYZE).
2. Timed, `--rounds` times each, interleaved (so a busy machine hits all alike):
     status    slo.selectors.statuses(all SLOs): the goal (one query over the recorded
               hours for 8 windows per SLO, then the pure maths);
     baseline  one aggregate over the very same hour rows (`sum(total_sum)` per SLO over its
               window's hours): the I/O any implementation has to do;
     load      loading the SLO rows themselves (SLO.objects.filter(team)).
   ratio = median status / median baseline.
3. Once: `statuses()` called per SLO for `--naive` SLOs, scaled to all of them (what a query per
   SLO would cost), the incremental recording of every SLO (`recording.record`, the last hour
   from 1-minute rollups), and a whole evaluation (`services.slos_evaluate`: record, statuses,
   tier checks), as the 30-s beat task runs it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from datetime import timedelta as td
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import add_common_arguments, check_isolation, emit, ensure_database, log, setup_django
from bench._storage import analyze, rollups_from_stage, rollups_stage

DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_slobench"
TEAM = "slobench"
HOURS = 32 * 24
WINDOWS = ["30d", "30d", "28d", "7d", "month"]


def kind_of(i: int) -> str:
    return ["latency", "availability", "threshold"][i % 3] if i % 10 >= 7 else "ratio"


def load(n: int, end: datetime) -> None:
    from django.db import connection, transaction

    from core.teams.models import Team
    from metrics.models import Series
    from slo.models import SLO

    team, _ = Team.objects.get_or_create(slug=TEAM, defaults={"name": "SLO bench"})
    with transaction.atomic():
        SLO.objects.filter(team=team).delete()
        Series.objects.filter(team=team).delete()
        series, slos = [], []
        for i in range(n):
            kind = kind_of(i)
            tag = {"slo": str(i)}
            window = WINDOWS[i % len(WINDOWS)]
            common = {"team": team, "name": f"slo-{i:04d}", "sli_kind": kind, "objective": 99.9, "window": window}
            common["timezone"] = "Europe/Berlin" if window == "month" else "UTC"
            common["recorded_through"] = end
            if kind == "ratio":
                slos.append(
                    SLO(
                        **common,
                        total_metric="req_total",
                        bad_metric="err_total",
                        total_matchers=[{"name": "slo", "op": "=", "value": str(i)}],
                        bad_matchers=[{"name": "slo", "op": "=", "value": str(i)}],
                    )
                )
                series += [
                    Series(team=team, metric="req_total", labels=tag),
                    Series(team=team, metric="err_total", labels=tag),
                ]
            elif kind == "latency":
                slos.append(
                    SLO(
                        **common,
                        metric="rt",
                        latency_threshold=0.3,
                        matchers=[{"name": "slo", "op": "=", "value": str(i)}],
                    )
                )
                series += [
                    Series(team=team, metric="rt_bucket", labels={**tag, "le": "0.3"}),
                    Series(team=team, metric="rt_count", labels=tag),
                ]
            else:
                metric = "up" if kind == "availability" else "queue_depth"
                slos.append(
                    SLO(**common, metric=metric, bound=100.0, matchers=[{"name": "slo", "op": "=", "value": str(i)}])
                )
                series.append(Series(team=team, metric=metric, labels=tag))
        SLO.objects.bulk_create(slos, batch_size=500)
        Series.objects.bulk_create(series, batch_size=1000)
    first = end.replace(minute=0) - td(hours=HOURS - 1)
    log(f"writing {n * HOURS:,} recorded hours and 130 minutes of rollups per series")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO alerts_slohour (slo_id, hour, good, total, good_sum, total_sum, observed, samples) "
            "SELECT s.id, h, array_fill(100.0 - s.e, ARRAY[60]), array_fill(100.0::float8, ARRAY[60]), "
            "60 * (100.0 - s.e), 6000.0, 60, 120 "
            "FROM (SELECT id, (random() * 0.05)::float8 AS e FROM alerts_slo WHERE team_id = %s) s "
            "CROSS JOIN generate_series(%s::timestamptz, %s::timestamptz, interval '1 hour') h",
            [team.id, first, end.replace(minute=0)],
        )
        stage = rollups_stage(cursor)  # on TimescaleDB the aggregates are built from samples
        cursor.execute(
            f"INSERT INTO {stage} (series_id, bucket, min, max, avg, count, last) "
            "SELECT s.id, b, v, v, v, 1, v FROM metrics_series s "
            "CROSS JOIN LATERAL generate_series(%s::timestamptz, %s::timestamptz, interval '1 minute') b "
            "CROSS JOIN LATERAL (SELECT CASE WHEN s.metric IN ('up') THEN 1.0 WHEN s.metric = 'queue_depth' "
            "THEN 50.0 ELSE extract(epoch FROM b) / 60 * CASE WHEN s.metric = 'err_total' THEN 0.01 ELSE 100 END "
            "END AS v) v WHERE s.team_id = %s ON CONFLICT DO NOTHING",
            [end - td(minutes=130), end - td(minutes=1), team.id],
        )
        rollups_from_stage(cursor, table="metrics_rollup_1m")
    connection.cursor().execute("VACUUM (ANALYZE) alerts_slohour")
    analyze(connection.cursor(), "metrics_rollup_1m")


BASELINE_SQL = """
SELECT w.slo_id, sum(h.total_sum) FROM unnest(%s::bigint[], %s::timestamptz[]) AS w(slo_id, ws)
JOIN alerts_slohour h ON h.slo_id = w.slo_id AND h.hour > w.ws - interval '1 hour' AND h.hour < %s
GROUP BY 1
"""


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(parser)
    parser.set_defaults(database_url=DEFAULT_DATABASE_URL)
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--naive", type=int, default=50, help="SLOs timed one query each (then scaled)")
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()
    check_isolation(args.database_url, args.port)
    ensure_database(args.database_url)
    setup_django(args.database_url)

    from django.db import connection

    from slo import recording, services
    from slo.models import SLO
    from slo.selectors import statuses
    from slo.windows import window_bounds

    slos = list(SLO.objects.filter(team__slug=TEAM))
    if args.reload or len(slos) != args.slos:
        now = datetime.now(UTC)
        load(args.slos, now.replace(minute=37, second=0, microsecond=0) - td(hours=1))
        slos = list(SLO.objects.filter(team__slug=TEAM))
    end = max(s.recorded_through for s in slos)
    log(f"{len(slos)} SLOs, data end {end:%Y-%m-%d %H:%M} UTC")
    starts = [window_bounds(s.window, s.timezone, end)[0] for s in slos]
    ids = [s.id for s in slos]

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, [ids, starts, end])
            cursor.fetchall()

    result_holder = {}

    def status():
        result_holder["statuses"] = statuses(slos, end=end)

    def load_rows():
        list(SLO.objects.filter(team__slug=TEAM))

    status()  # warm-up (plans, caches)
    baseline()
    times: dict[str, list[float]] = {"status": [], "baseline": [], "load": []}
    for r in range(args.rounds):
        times["status"].append(timed(status))
        times["baseline"].append(timed(baseline))
        times["load"].append(timed(load_rows))
        log(f"round {r + 1}: status {times['status'][-1]:.3f} s, baseline {times['baseline'][-1]:.3f} s")
    computed = result_holder["statuses"]
    assert len(computed) == len(slos)
    naive_n = min(args.naive, len(slos))
    naive_s = timed(lambda: [statuses([s], end=end) for s in slos[:naive_n]]) * len(slos) / naive_n
    for s in slos:  # incremental recording: the last minutes, as every evaluation does
        s.recorded_through = end - td(minutes=1)
    record_s = timed(lambda: recording.record(slos, end))
    SLO.objects.filter(id__in=ids).update(recorded_through=end - td(minutes=1))
    evaluate_s = timed(lambda: services.slos_evaluate(now=end + td(seconds=60), slo_ids=ids))
    med = {k: statistics.median(v) for k, v in times.items()}
    attainments = [st.attainment for st in computed.values() if st.attainment is not None]
    emit(
        {
            "bench": "slo",
            "slos": len(slos),
            "recorded_hours": len(slos) * HOURS,
            "status_s_median": round(med["status"], 4),
            "status_s_best": round(min(times["status"]), 4),
            "status_s_all": [round(t, 4) for t in times["status"]],
            "goal_s": 5.0,
            "goal_met": med["status"] <= 5.0,
            "baseline_s_median": round(med["baseline"], 4),
            "ratio_status_to_baseline": round(med["status"] / med["baseline"], 2),
            "load_slos_s_median": round(med["load"], 4),
            "naive_query_per_slo_s_estimate": round(naive_s, 3),
            "batched_speedup_vs_naive": round(naive_s / med["status"], 1),
            "record_incremental_s": round(record_s, 3),
            "evaluate_s": round(evaluate_s, 3),
            "attainment_min": round(min(attainments), 6) if attainments else None,
        },
        args.json,
    )


if __name__ == "__main__":
    main()
