"""Server render time of the operator console and the executive dashboard with a big data set
stored, against the login page rendered in the same run. Goal: <= 200 ms (p95) each.

What it does (database hiveops_dashbench, Redis database 6 — never `hiveops`, `test_hiveops` or
Redis database 0; no server is started: the views run in this process):

1. Loads the data set into team `dashbench` unless it is already there (`--reload` forces it):
   `--open` + `--resolved` alerts grouped into incidents (bench/alert_list.py's generator: 6
   services x 500 hosts x 10 alert names, last_seen over 30 days), incident priorities P1–P5 and
   acknowledgement times spread over them; `--series` series with `--days` days of 1-hour rollups
   (written by one INSERT … SELECT from generate_series); `--slos` SLOs with the same days of
   recorded hours (99.5 % good), one SLA each on every other SLO; then VACUUM (ANALYZE).
2. Logs a team member in with django.test.Client (same URL resolution, middleware, view and
   template as a request; no HTTP), warms up, then `--requests` rounds, each rendering every page
   once (round-robin, so drifts of the machine hit all alike):
     baseline   /login/                   (a template, no queries beyond the session)
     console    /console/
     business   /business/?period=30d
     business90 /business/?period=90d
     quarter    /business/?period=quarter
     api        /api/v1/bi/summary?period=30d
   ratio = p95 of the page / p95 of the baseline; also the SQL statements and SQL time per page.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime

import psycopg
from _common import bench_parser, bench_start, check_isolation, database_name, emit, log, percentile, use_redis
from _storage import analyze, rollups_delete, rollups_from_stage, rollups_stage

TEAM = "dashbench"
USER = "dashbench-exec"
DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_dashbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"
GOAL_P95_MS = 200
PAGES = {
    "baseline": "/login/",
    "console": "/console/",
    "business": "/business/?period=30d",
    "business90": "/business/?period=90d",
    "quarter": "/business/?period=quarter",
    "api": "/api/v1/bi/summary?period=30d",
}
REVENUE = {"checkout": 250, "payments": 400, "search": 60, "auth": 120, "inventory": 30, "notifications": 5}


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def loaded(conn, team_id: int) -> dict:
    def count(sql: str) -> int:
        return conn.execute(sql, [team_id]).fetchone()[0]

    return {
        "alerts": count("SELECT count(*) FROM alerts_alert WHERE team_id = %s"),
        "incidents": count("SELECT count(*) FROM alerts_incident WHERE team_id = %s"),
        "series": count("SELECT count(*) FROM metrics_series WHERE team_id = %s"),
        "rollup_1h_rows": count(
            "SELECT count(*) FROM metrics_rollup_1h "
            "WHERE series_id IN (SELECT id FROM metrics_series WHERE team_id = %s)"
        ),
        "slos": count("SELECT count(*) FROM alerts_slo WHERE team_id = %s"),
    }


def prepare() -> tuple[int, dict[str, int], int]:
    """Team, services (with revenue per minute) and the executive, through the ORM."""
    from django.contrib.auth import get_user_model

    from catalog.models import Service
    from core.teams.services import membership_ensure, team_get_or_create

    team, _ = team_get_or_create(slug=TEAM, name="Dashboard bench")
    services = {}
    for i, (slug, rpm) in enumerate(REVENUE.items()):
        service, _ = Service.objects.update_or_create(
            team=team, slug=slug, defaults={"name": slug.title(), "revenue_per_minute": rpm, "criticality": 1 + i % 4}
        )
        services[slug] = service.id
    user, _ = get_user_model().objects.get_or_create(username=USER)
    membership_ensure(team=team, user=user)
    return team.id, services, user.id


def load_alerts(conninfo: str, team_id: int, services: dict[str, int], user_id: int, n_open: int, n_resolved: int):
    import alert_list

    alert_list.load(conninfo, team_id, services, user_id, n_open, n_resolved)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE alerts_incident SET priority = 1 + (id %% 5), "
            "acknowledged_at = opened_at + make_interval(mins => (id %% 37)::int + 1), "
            "time_to_acknowledge = make_interval(mins => (id %% 37)::int + 1) "
            "WHERE team_id = %s",
            [team_id],
        )
        conn.execute("VACUUM (ANALYZE) alerts_incident")


def load_series(conninfo: str, team_id: int, n_series: int, days: int) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rollups_delete(
            conn,
            table="metrics_rollup_1h",
            where="series_id IN (SELECT id FROM metrics_series WHERE team_id = %s)",
            params=[team_id],
        )
        conn.execute(
            "INSERT INTO metrics_series (uid, metric, labels, unit, created_at, team_id) "
            "SELECT gen_random_uuid(), 'bench_metric_' || (i %% 20), "
            "jsonb_build_object('host', 'h' || i, 'service', (ARRAY['checkout','payments','search','auth',"
            "'inventory','notifications'])[1 + i %% 6]), '', now(), %s "
            "FROM generate_series(0, %s - 1) i ON CONFLICT DO NOTHING",
            [team_id, n_series],
        )
        log(f"writing {n_series * days * 24:,} 1-hour rollup rows")
        started = time.perf_counter()
        stage = rollups_stage(conn)  # on TimescaleDB the aggregates are built from samples
        conn.execute(
            f"INSERT INTO {stage} (series_id, bucket, min, max, avg, count, last) "
            "SELECT s.id, b, v - 1, v + 1, v, 60, v FROM (SELECT id FROM metrics_series WHERE team_id = %s) s "
            "CROSS JOIN generate_series(%s::timestamptz - make_interval(days => %s), %s::timestamptz, '1 hour') b "
            "CROSS JOIN LATERAL (SELECT 50 + 10 * sin(extract(epoch FROM b) / 86400 + s.id)) AS x(v) "
            "ON CONFLICT DO NOTHING",
            [team_id, now, days, now],
        )
        rollups_from_stage(conn, table="metrics_rollup_1h")
        log(f"rollups written in {time.perf_counter() - started:.0f} s; VACUUM (ANALYZE)")
        analyze(conn, "metrics_rollup_1h")


def load_slos(conninfo: str, team_id: int, services: dict[str, int], n_slos: int, days: int) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute("DELETE FROM alerts_sla WHERE team_id = %s", [team_id])
        conn.execute(
            "DELETE FROM alerts_slohour WHERE slo_id IN (SELECT id FROM alerts_slo WHERE team_id = %s)", [team_id]
        )
        conn.execute("DELETE FROM alerts_slo WHERE team_id = %s", [team_id])
        slugs = list(services)
        for i in range(n_slos):
            slo_id = conn.execute(
                "INSERT INTO alerts_slo (uid, team_id, service_id, name, description, enabled, sli_kind, good_metric, "
                "good_matchers, bad_metric, bad_matchers, total_metric, total_matchers, counter_type, metric, "
                "matchers, "
                'latency_source, bound_op, objective, "window", timezone, gap_policy, min_events, alerting, '
                "page_fast_enabled, page_fast_severity, page_slow_enabled, page_slow_severity, ticket_fast_enabled, "
                "ticket_fast_severity, ticket_slow_enabled, ticket_slow_severity, runbook_url, created_at, updated_at, "
                "recorded_through, page_tier, ticket_tier) "
                "VALUES (gen_random_uuid(), %s, %s, %s, '', true, 'ratio', '', '[]', 'errors', '[]', 'requests', '[]', "
                "'cumulative', '', '[]', 'buckets', 'lte', %s, '30d', 'UTC', 'unknown', 10, false, "
                "true, 'critical', true, 'critical', true, 'medium', true, 'medium', '', now(), now(), %s, '', '') "
                "RETURNING id",
                [team_id, services[slugs[i % len(slugs)]], f"SLO {i:02d}", 99.0 + (i % 3) * 0.4, now],
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO alerts_slohour (slo_id, hour, good, total, good_sum, total_sum, observed, samples) "
                "SELECT %s, h, array_fill(9.95::float8, ARRAY[60]), array_fill(10::float8, ARRAY[60]), "
                "597, 600, 60, 60 "
                "FROM generate_series(%s::timestamptz - make_interval(days => %s), %s::timestamptz, '1 hour') h",
                [slo_id, now, days, now],
            )
            if i % 2 == 0:
                conn.execute(
                    "INSERT INTO alerts_sla (uid, team_id, slo_id, name, customer, target, monthly_fee, currency, "
                    "credit_tiers, timezone, stakeholders, created_at) VALUES (gen_random_uuid(), %s, %s, %s, %s, "
                    "99.5, 1000, 'EUR', '[]', 'UTC', '', now())",
                    [team_id, slo_id, f"SLA {i:02d}", f"Customer {i // 2:02d}"],
                )
    with psycopg.connect(conninfo, autocommit=True) as conn:  # index-only scans need the visibility map
        conn.execute("VACUUM (ANALYZE) alerts_slohour")


def measure(user_id: int, rounds: int, warmup: int) -> dict[str, dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    anonymous = Client()

    def get(name: str):
        return (anonymous if name == "baseline" else client).get(PAGES[name])

    for _ in range(warmup):
        for name in PAGES:
            response = get(name)
            if response.status_code != 200:
                raise SystemExit(f"GET {PAGES[name]} answered {response.status_code}")
    timings: dict[str, list[float]] = {name: [] for name in PAGES}
    for i in range(rounds):
        for name in PAGES:
            started = time.perf_counter()
            get(name)
            timings[name].append(time.perf_counter() - started)
        if i % 10 == 9:
            log(f"round {i + 1}/{rounds}")
    out = {}
    for name in PAGES:
        with CaptureQueriesContext(connection) as ctx:
            response = get(name)
        out[name] = {
            "timings": timings[name],
            "sql_statements": len(ctx.captured_queries),
            "sql_ms": round(sum(float(q["time"]) for q in ctx.captured_queries) * 1000, 1),
            "bytes": len(response.content),
        }
    return out


def main() -> None:
    parser = bench_parser(__doc__, redis_url=DEFAULT_REDIS_URL, database_url=DEFAULT_DATABASE_URL)
    parser.add_argument("--open", type=int, default=10_000, help="open alerts (default %(default)s)")
    parser.add_argument("--resolved", type=int, default=90_000, help="resolved alerts (default %(default)s)")
    parser.add_argument("--series", type=int, default=10_000, help="series (default %(default)s)")
    parser.add_argument("--days", type=int, default=90, help="days of rollups and SLO hours (default %(default)s)")
    parser.add_argument("--slos", type=int, default=20, help="SLOs (default %(default)s)")
    parser.add_argument("--requests", type=int, default=50, help="timed renders per page (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed renders per page first")
    parser.add_argument("--reload", action="store_true", help="reload the data set even if loaded")
    args = parser.parse_args()
    check_isolation(args.database_url, args.port)
    name = database_name(args.database_url)
    if name.startswith("test_hiveops") or name in ("hiveops_bench", "hiveops_alertbench"):
        raise SystemExit(f"refusing to use database {name!r}: use hiveops_dashbench")
    if args.redis_url.rstrip("/").endswith("/0"):
        raise SystemExit("refusing Redis database 0 (shared with the development server)")
    use_redis(args.redis_url)
    start = bench_start(args.database_url)
    conninfo = start.conninfo
    team_id, services, user_id = prepare()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        have = loaded(conn, team_id)
    load_s = None
    if args.reload or have["alerts"] != args.open + args.resolved:
        started = time.perf_counter()
        load_alerts(conninfo, team_id, services, user_id, args.open, args.resolved)
        load_s = time.perf_counter() - started
    if args.reload or have["series"] != args.series or have["rollup_1h_rows"] < args.series * args.days * 24:
        started = time.perf_counter()
        load_series(conninfo, team_id, args.series, args.days)
        load_s = (load_s or 0) + time.perf_counter() - started
    if args.reload or have["slos"] != args.slos:
        load_slos(conninfo, team_id, services, args.slos, args.days)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        have = loaded(conn, team_id)
    log(f"data set: {have}")

    measured = measure(user_id, args.requests, args.warmup)
    baseline_p95 = percentile(measured["baseline"]["timings"], 95)
    pages = {}
    for page, data in measured.items():
        p95 = percentile(data["timings"], 95)
        pages[page] = {
            "path": PAGES[page],
            "ms_p50": ms(percentile(data["timings"], 50)),
            "ms_p95": ms(p95),
            "ratio_p95": round(p95 / baseline_p95, 1),
            "sql_statements": data["sql_statements"],
            "sql_ms": data["sql_ms"],
            "bytes": data["bytes"],
        }
    worst = max(v["ms_p95"] for k, v in pages.items() if k != "baseline")
    result = {
        "worst_ms_p95": worst,
        "baseline_ms_p95": ms(baseline_p95),
        "pages": pages,
        **have,
        "requests_per_page": args.requests,
        "load_s": round(load_s, 1) if load_s is not None else None,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "goal_p95_ms": GOAL_P95_MS,
        "meets_goal": worst <= GOAL_P95_MS,
        "total_s": round(time.perf_counter() - start.started, 1),
    }
    emit(result, args.json)


if __name__ == "__main__":
    sys.exit(main())
