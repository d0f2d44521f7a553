"""Alert list API latency with 10,000 open and 100,000 resolved alerts stored, against a trivial
endpoint over the same HTTP path in the same run. Goal: <= 100 ms p95.

What it does (database hiveops_alertbench, server on 127.0.0.1:8200, Redis database 13 — never
`hiveops`, port 8000/8100 or Redis database 0):

1. Loads the data set into team `bench-alert-list` unless it is already there (same counts;
   `--reload` forces it): `--open` open alerts (firing 60 % / acknowledged 40 %) and `--resolved`
   resolved ones, written with COPY, ids ascending with first_seen as in real life. Labels
   alertname/host/service/env/region/metric from a pool of 6 services x 500 hosts x 10 alert
   names (30,000 fingerprints): open alerts have distinct fingerprints (the partial unique index
   alert_one_open_per_fingerprint holds), resolved ones repeat them. Severities critical 10 %,
   high 20 %, medium 35 %, low 25 %, info 10 %; sources rule/alertmanager/webhook; last_seen
   uniform over the last 30 days; 90 % of the alerts belong to a Service; alerts are grouped into
   incidents (open ones per service/alert name/host block, resolved ones per service/alert
   name/day); 5 % of the open alerts are assigned to a user. Then VACUUM (ANALYZE).
2. Starts daphne (hive_ops.asgi:application, DEBUG=false), creates a read token
   (`manage.py create_api_token`), warms up, then `--requests` rounds, each sending every query
   once over one keep-alive connection (round-robin, so drifts of the machine hit all alike):
     default   /api/v1/alerts
     firing    /api/v1/alerts?status=firing
     open_crit /api/v1/alerts?status=open&severity=critical
     resolved  /api/v1/alerts?status=resolved&limit=50&offset=5000
     search    /api/v1/alerts?q=<--q>
     baseline  /api/v1/series?limit=1   (the team has no series: auth + an empty page)
   ratio = p95 of the query / p95 of the baseline.
3. In-process: each query through django.test.Client (same URL, middleware and view, no
   HTTP) `--inproc-requests` times, capturing its SQL; every statement on alerts_alert is run
   under EXPLAIN (ANALYZE, BUFFERS) (the plan) and EXPLAIN (ANALYZE, TIMING OFF) (its execution
   time, without per-node timing overhead). Times and scan nodes go in the JSON line; the full plans go to
   .run/bench-alert-list-explain.txt and the default list's to stderr.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import psycopg
from _alerting import Client, alert_parser, alert_start, db_sessions
from _common import (
    ROOT,
    CpuMeter,
    create_token,
    emit,
    log,
    percentile,
    server_running,
)
from tqdm import tqdm

TEAM = "bench-alert-list"
GOAL_P95_MS = 100
SERVICES = ["checkout", "payments", "search", "auth", "inventory", "notifications"]
HOSTS_PER_SERVICE = 500
ALERTNAMES = [
    ("HighCPU", "cpu_usage_pct"),
    ("HighMemory", "memory_usage_pct"),
    ("DiskFull", "disk_used_pct"),
    ("HighLatency", "http_latency_p95_ms"),
    ("ErrorRate", "http_errors_per_s"),
    ("PodCrashLooping", "pod_restarts"),
    ("TargetDown", "up"),
    ("CertExpiring", "cert_days_left"),
    ("QueueBacklog", "queue_depth"),
    ("ReplicationLag", "replication_lag_s"),
]
SEVERITIES = (["critical", "high", "medium", "low", "info"], [0.10, 0.20, 0.35, 0.25, 0.10])
SOURCES = (["rule", "alertmanager", "webhook"], [0.6, 0.3, 0.1])
REGIONS = ["eu-west-1", "us-east-1", "ap-south-1"]
SPAN_S = 30 * 86400
OPEN_GROUP_HOSTS = 50  # open incidents: one per service x alert name x block of 50 hosts
ALERT_COLUMNS = [
    "uid",
    "team_id",
    "service_id",
    "incident_id",
    "assignee_id",
    "source",
    "fingerprint",
    "dedup_key",
    "status",
    "muted",
    "flapping",
    "severity",
    "summary",
    "description",
    "runbook_url",
    "generator_url",
    "labels",
    "annotations",
    "value",
    "occurrences",
    "first_seen",
    "last_seen",
    "fired_at",
    "acknowledged_at",
    "resolved_at",
    "snoozed_until_clear",
]
EXPLAIN_RE = re.compile(r"Execution Time: ([0-9.]+) ms")
SCAN_RE = re.compile(r"((?:Parallel )?(?:Seq|Index|Index Only|Bitmap Heap|Bitmap Index) Scan(?: using \w+)? on \w+)")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def queries(q: str) -> dict[str, str]:
    return {
        "default": "/api/v1/alerts",
        "firing": "/api/v1/alerts?status=firing",
        "open_crit": "/api/v1/alerts?status=open&severity=critical",
        "resolved": "/api/v1/alerts?status=resolved&limit=50&offset=5000",
        "search": f"/api/v1/alerts?q={q}",
        "baseline": "/api/v1/series?limit=1",
    }


# --- data set -----------------------------------------------------------------------------------


def combo_labels(combo: int) -> dict[str, str]:
    """Labels of one (service, host, alert name) combination, 0 <= combo < 30,000."""
    service_index, rest = divmod(combo, HOSTS_PER_SERVICE * len(ALERTNAMES))
    host, name_index = divmod(rest, len(ALERTNAMES))
    service = SERVICES[service_index]
    alertname, metric = ALERTNAMES[name_index]
    return {
        "alertname": alertname,
        "env": "prod" if host % 5 else "staging",
        "host": f"{service}-{host:04d}",
        "metric": metric,
        "region": REGIONS[host % len(REGIONS)],
        "service": service,
    }


def fingerprint(labels: dict[str, str]) -> str:
    """Like alerts.services.alerts.fingerprint_for (sha256 of source, scope and sorted labels)."""
    return hashlib.sha256(b"rule:bench:" + orjson.dumps(labels, option=orjson.OPT_SORT_KEYS)).hexdigest()


def loaded_counts(conn, team_id: int) -> tuple[int, int]:
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE status IN ('pending', 'firing', 'acknowledged')), "
        "count(*) FILTER (WHERE status = 'resolved') FROM alerts_alert WHERE team_id = %s",
        [team_id],
    ).fetchone()
    return row[0], row[1]


def delete_team_alerts(conn, team_id: int) -> None:
    with conn.transaction():
        conn.execute(
            "DELETE FROM alerts_alertevent WHERE alert_id IN (SELECT id FROM alerts_alert WHERE team_id = %s)",
            [team_id],
        )
        conn.execute("DELETE FROM alerts_alert WHERE team_id = %s", [team_id])
        conn.execute(
            "DELETE FROM alerts_incidentevent WHERE incident_id IN (SELECT id FROM alerts_incident WHERE team_id = %s)",
            [team_id],
        )
        conn.execute("DELETE FROM alerts_incident WHERE team_id = %s", [team_id])


def prepare_team() -> tuple[int, dict[str, int], int]:
    """(team id, service ids by slug, id of the on-call user) through the ORM."""
    from django.contrib.auth import get_user_model

    from catalog.models import Service
    from core.teams.models import Team

    team = Team.objects.get(slug=TEAM)
    services = {}
    for slug in SERVICES:
        service, _ = Service.objects.get_or_create(team=team, slug=slug, defaults={"name": slug.title()})
        services[slug] = service.id
    user, _ = get_user_model().objects.get_or_create(username="bench-alert-list-oncall")
    return team.id, services, user.id


def build_alerts(n_open: int, n_resolved: int, now: datetime, seed: int = 42) -> list[dict]:
    """The alerts as dicts (no ids yet), sorted by first_seen."""
    rng = np.random.default_rng(seed)
    n_combos = len(SERVICES) * HOSTS_PER_SERVICE * len(ALERTNAMES)
    if n_open > n_combos:
        raise SystemExit(f"at most {n_combos} open alerts (one per fingerprint)")
    open_combos = rng.choice(n_combos, size=n_open, replace=False)
    resolved_combos = rng.integers(0, n_combos, size=n_resolved)
    combos = np.concatenate([open_combos, resolved_combos])
    total = n_open + n_resolved
    severities = rng.choice(SEVERITIES[0], size=total, p=SEVERITIES[1])
    sources = rng.choice(SOURCES[0], size=total, p=SOURCES[1])
    age_s = rng.uniform(0, SPAN_S, size=total)  # last_seen = now - age
    duration_s = rng.exponential(1800, size=total)  # first_seen = last_seen - duration
    resolve_after_s = rng.uniform(60, 7200, size=total)
    ack_after_s = rng.uniform(30, 1800, size=total)
    acknowledged = rng.random(total) < 0.4
    with_service = rng.random(total) < 0.9
    assigned = rng.random(total) < 0.05
    values = np.round(rng.uniform(0, 1000, size=total), 2)
    occurrences = rng.integers(1, 20, size=total)
    alerts = []
    for i in range(total):
        labels = combo_labels(int(combos[i]))
        is_open = i < n_open
        last_seen = now - timedelta(seconds=float(age_s[i]))
        first_seen = last_seen - timedelta(seconds=float(duration_s[i]))
        resolved_at = None if is_open else min(now, last_seen + timedelta(seconds=float(resolve_after_s[i])))
        status = ("acknowledged" if acknowledged[i] else "firing") if is_open else "resolved"
        ack_at = first_seen + timedelta(seconds=float(ack_after_s[i])) if acknowledged[i] else None
        source = str(sources[i])
        alerts.append(
            {
                "uid": uuid.uuid4(),
                "service": labels["service"] if with_service[i] else None,
                "assigned": bool(is_open and assigned[i]),
                "source": source,
                "fingerprint": fingerprint(labels),
                "dedup_key": f"{labels['alertname']}/{labels['host']}" if source == "alertmanager" else "",
                "status": status,
                "severity": str(severities[i]),
                "summary": f"{labels['alertname']} on {labels['host']}: {labels['metric']} is {values[i]:g}",
                "labels": labels,
                "annotations": {"condition": f"last({labels['metric']}[300s]) > 90"} if source == "rule" else {},
                "value": float(values[i]),
                "occurrences": int(occurrences[i]),
                "first_seen": first_seen,
                "last_seen": last_seen,
                "fired_at": first_seen,
                "acknowledged_at": min(ack_at, resolved_at or ack_at) if ack_at else None,
                "resolved_at": resolved_at,
                "group": (
                    f"open:{labels['service']}:{labels['alertname']}:{int(labels['host'][-4:]) // OPEN_GROUP_HOSTS}"
                    if is_open
                    else f"resolved:{labels['service']}:{labels['alertname']}:{int(age_s[i] // 86400)}"
                ),
            }
        )
    alerts.sort(key=lambda a: a["first_seen"])
    return alerts


def insert_incidents(conn, team_id: int, services: dict[str, int], alerts: list[dict]) -> dict[str, int]:
    """One incident per group; returns incident ids by group key."""
    groups: dict[str, dict] = {}
    for alert in alerts:
        group = groups.setdefault(alert["group"], {"first": alert, "open": False, "last": alert})
        group["open"] |= alert["status"] != "resolved"
        if alert["first_seen"] < group["first"]["first_seen"]:
            group["first"] = alert
        if (alert["resolved_at"] or alert["last_seen"]) > (group["last"]["resolved_at"] or group["last"]["last_seen"]):
            group["last"] = alert
    keys, titles, statuses, opened, resolved, service_ids = [], [], [], [], [], []
    for key, group in groups.items():
        first = group["first"]
        keys.append(key)
        titles.append(f"{first['labels']['alertname']} on {first['labels']['service']}")
        statuses.append("triggered" if group["open"] else "resolved")
        opened.append(first["first_seen"])
        resolved.append(None if group["open"] else group["last"]["resolved_at"])
        service_ids.append(services[first["labels"]["service"]])
    rows = conn.execute(
        "INSERT INTO alerts_incident (uid, team_id, service_id, group_key, title, status, priority, opened_at, "
        "resolved_at, time_to_resolve, resolution_note, postmortem_summary, root_cause, follow_ups) "
        "SELECT gen_random_uuid(), %s, s, k, t, st, 3, o, r, r - o, '', '', '', '' "
        "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[]) "
        "AS x(s, k, t, st, o, r) RETURNING group_key, id",
        [team_id, service_ids, keys, titles, statuses, opened, resolved],
    ).fetchall()
    return dict(rows)


def load(conninfo: str, team_id: int, services: dict[str, int], user_id: int, n_open: int, n_resolved: int) -> float:
    started = time.perf_counter()
    now = datetime.now(UTC)
    alerts = build_alerts(n_open, n_resolved, now)
    log(f"built {len(alerts):,} alerts in {time.perf_counter() - started:.1f}s")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        delete_team_alerts(conn, team_id)
        with conn.transaction():
            incidents = insert_incidents(conn, team_id, services, alerts)
            statement = f"COPY alerts_alert ({', '.join(ALERT_COLUMNS)}) FROM STDIN"
            with conn.cursor() as cur, cur.copy(statement) as copy:
                for a in tqdm(alerts, desc="COPY alerts", file=sys.stderr, mininterval=1):
                    copy.write_row(
                        [
                            a["uid"],
                            team_id,
                            services[a["service"]] if a["service"] else None,
                            incidents[a["group"]],
                            user_id if a["assigned"] else None,
                            a["source"],
                            a["fingerprint"],
                            a["dedup_key"],
                            a["status"],
                            "",
                            False,
                            a["severity"],
                            a["summary"],
                            "",
                            "",
                            "",
                            orjson.dumps(a["labels"]).decode(),
                            orjson.dumps(a["annotations"]).decode(),
                            a["value"],
                            a["occurrences"],
                            a["first_seen"],
                            a["last_seen"],
                            a["fired_at"],
                            a["acknowledged_at"],
                            a["resolved_at"],
                            False,
                        ]
                    )
        log(f"{len(incidents):,} incidents; VACUUM (ANALYZE)")
        conn.execute("VACUUM (ANALYZE) alerts_alert")
        conn.execute("VACUUM (ANALYZE) alerts_incident")
    return time.perf_counter() - started


# --- measurement --------------------------------------------------------------------------------


def timed_rounds(client: Client, paths: dict[str, str], rounds: int) -> dict[str, dict]:
    timings: dict[str, list[float]] = {name: [] for name in paths}
    info: dict[str, dict] = {}
    for _ in tqdm(range(rounds), desc="HTTP rounds", file=sys.stderr, mininterval=1):
        for name, path in paths.items():
            status, body, seconds = client.request("GET", path)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}: {body[:300]!r}")
            timings[name].append(seconds)
            if name not in info:
                data = orjson.loads(body)
                info[name] = {"count": data.get("count"), "results": len(data.get("results", [])), "bytes": len(body)}
    return {name: {"timings": timings[name], **info[name]} for name in paths}


def inprocess(paths: dict[str, str], token: str, repeats: int, explain_path) -> dict[str, dict]:
    """Each query through django.test.Client: timings, its SQL, and EXPLAIN ANALYZE of the alert SQL."""
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    out: dict[str, dict] = {}
    with explain_path.open("w") as report:
        for name, path in paths.items():
            client.get(path)  # warm
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                response = client.get(path)
                timings.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"in-process GET {path} answered {response.status_code}")
            with CaptureQueriesContext(connection) as ctx:
                client.get(path)
            statements = [q["sql"] for q in ctx.captured_queries]
            entry = {
                "inproc_ms_p50": ms(percentile(timings, 50)),
                "sql_statements": len(statements),
                "sql_ms": round(sum(float(q["time"]) for q in ctx.captured_queries) * 1000, 1),
                "explain": [],
            }
            report.write(f"===== {name}: GET {path}\n")
            for sql in statements:
                if '"alerts_alert"' not in sql:
                    continue
                with connection.cursor() as cursor:
                    # The plan with per-node timings (for reading), then the execution time without
                    # the per-node timing overhead (which inflates a count over 100,000 rows a lot).
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    cursor.execute("EXPLAIN (ANALYZE, TIMING OFF) " + sql)
                    quiet = "\n".join(row[0] for row in cursor.fetchall())
                found = EXPLAIN_RE.search(quiet)
                kind = "count" if sql.startswith("SELECT COUNT(*)") else "page"
                entry["explain"].append(
                    {
                        "sql": kind,
                        "execution_ms": float(found.group(1)) if found else None,
                        "scans": sorted({m.group(1) for m in SCAN_RE.finditer(plan)}),
                    }
                )
                report.write(f"--- {kind}\n{sql}\n\n{plan}\n\n")
                if name == "default":
                    log(f"EXPLAIN ANALYZE ({name}, {kind}):\n{sql}\n{plan}\n")
            out[name] = entry
    return out


def main() -> None:
    parser = alert_parser(__doc__, web=True)
    parser.add_argument("--open", type=int, default=10_000, help="open alerts (default %(default)s)")
    parser.add_argument("--resolved", type=int, default=100_000, help="resolved alerts (default %(default)s)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per query (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per query first")
    parser.add_argument("--inproc-requests", type=int, default=20, help="in-process requests per query")
    parser.add_argument("--q", default="checkout-0042", help="search term of the q query (default %(default)s)")
    parser.add_argument("--reload", action="store_true", help="delete and reload the alerts even if loaded")
    args = parser.parse_args()
    start = alert_start(args)
    conninfo, dbname = start.conninfo, start.dbname
    token = create_token(args.database_url, team=TEAM, name=f"bench alert list {start.run}", scopes="read")
    team_id, services, user_id = prepare_team()

    with psycopg.connect(conninfo, autocommit=True) as conn:
        counts = loaded_counts(conn, team_id)
    load_s = None
    if args.reload or counts != (args.open, args.resolved):
        log(f"loading {args.open:,} open + {args.resolved:,} resolved alerts (found {counts[0]:,} + {counts[1]:,})")
        load_s = load(conninfo, team_id, services, user_id, args.open, args.resolved)
        log(f"loaded in {load_s:.1f}s")
    else:
        log(f"data set already loaded ({counts[0]:,} open + {counts[1]:,} resolved)")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        counts = loaded_counts(conn, team_id)
        table_mb = conn.execute("SELECT pg_total_relation_size('alerts_alert') / 1048576.0").fetchone()[0]

    paths = queries(args.q)
    with server_running(args.database_url, args.port, debug=args.debug, processes=args.web_processes) as server:
        client = Client(args.port, token)
        try:
            timed_rounds(client, paths, args.warmup)
            sessions_before = db_sessions(conninfo, dbname)
            with CpuMeter(server_pid=server.pid, dbname=dbname) as meter:
                measured = timed_rounds(client, paths, args.requests)
            sessions = db_sessions(conninfo, dbname) - sessions_before - 1  # minus the first probe
        finally:
            client.close()
    explain_path = ROOT / ".run" / "bench-alert-list-explain.txt"
    inproc = inprocess(paths, token, args.inproc_requests, explain_path)
    log(f"plans of every query: {explain_path}")

    baseline_p95 = percentile(measured["baseline"]["timings"], 95)
    per_query = {}
    worst = 0.0
    for name, data in measured.items():
        p95 = percentile(data["timings"], 95)
        if name != "baseline":
            worst = max(worst, p95)
        per_query[name] = {
            "ms_p50": ms(percentile(data["timings"], 50)),
            "ms_p95": ms(p95),
            "ratio": round(p95 / baseline_p95, 2),
            "count": data["count"],
            "results": data["results"],
            "bytes": data["bytes"],
            **inproc[name],
        }
    result = {
        "worst_ms_p95": ms(worst),
        "baseline_ms_p95": ms(baseline_p95),
        "worst_ratio": round(worst / baseline_p95, 2),
        "queries": per_query,
        "open_alerts": counts[0],
        "resolved_alerts": counts[1],
        "alerts_table_mb": round(float(table_mb), 1),
        "requests_per_query": args.requests,
        "db_sessions_per_request": round(sessions / (args.requests * len(paths)), 2),
        "load_s": round(load_s, 1) if load_s is not None else None,
        **meter.report(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "debug": args.debug,
        "goal_p95_ms": GOAL_P95_MS,
        "meets_goal": worst * 1000 <= GOAL_P95_MS,
        "total_s": round(time.perf_counter() - start.started, 1),
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
