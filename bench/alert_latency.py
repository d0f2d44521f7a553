"""Ingest -> alert firing latency of a threshold rule (for = 0), against the ingest round trip
measured in the same run. Goal: p95 <= 2 s.

What it does (database hiveops_alertbench, server on 127.0.0.1:8200, Redis database 13 — never
`hiveops`, port 8000/8100 or Redis database 0):

1. Creates/migrates the bench database, a team `bench-alert-latency` with an ingest+read token
   (`manage.py create_api_token`) and, through the ORM, the rule `bench latency`: kind threshold,
   metric `bench_latency`, aggregation last, window 5 min, critical > 90, for 0, no service.
   The rule exists before the server starts, so the web process's 5-second cache of watched
   metrics (alerts.receivers) already contains it.
2. Starts daphne (hive_ops.asgi:application) and a Celery worker (`celery -A hive_ops worker
   --concurrency 2`) with DATABASE_URL/REDIS_URL pointing at the bench database and Redis db 13,
   so the samples_ingested -> alerts.tasks.evaluate_series path is the production one.
3. `--warmup` untimed iterations (the first waits up to 60 s: worker start-up), then `--alerts`
   timed iterations, one after the other. Each one, for a new series (labels run=<run>, host=h<i>):
   POST /api/v1/ingest a normal value (10), then a breaching one (95, later timestamp); the send
   time of the breaching POST is t0. One psycopg connection then polls alerts_alert every
   `--poll-ms` by the alert's fingerprint (the partial unique index) until it is firing or
   `--timeout` passes (a failure).
     latency     = time the poll saw the alert firing - t0   (committed and visible to the API)
     fired_at    = alert.fired_at - t0   (the worker's clock at the start of the evaluation)
     evaluate    = latency - fired_at   (rule evaluation, alert + incident writes, commit, poll step)
   Same-machine wall clocks, so the differences are meaningful.
4. Baseline: round trip of every ingest POST of the timed phase (normal and breaching, same
   conditions). ratio = latency p95 / ingest RTT p95.
5. `--background-rps R` sends unrelated ingest traffic during the timed phase (after one
   `--background-interval` of ramp-up): `--background-series` series a request over
   `--background-clients` connections, from a pool of R x series x interval series so each series
   gets a point every interval seconds (like scraped hosts), metric bench_latency_bg;
   `--background-watched` sends it to the rule's metric instead (normal values: evaluation tasks
   that never fire, queued ahead of the measured ones). The Celery queue length is sampled every
   0.25 s (queue_len_p50/max, queue_len_at_end): a growing queue means the worker cannot keep up
   and latency then grows without bound. After `--max-consecutive-failures` alerts in a row miss
   `--timeout`, the timed phase stops early (complete=false).
6. Checks that GET /api/v1/alerts?status=firing&q=<run> lists the alerts (firing_in_api counts the
   warm-up ones too), stops the worker (warm shutdown) and the server, drops tasks left in the
   bench Redis queue (also at start: leftovers of an interrupted run), and deletes the team's
   alerts, incidents, rule states, series, samples and tokens (--keep keeps the data).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import timedelta

import orjson
import psycopg
from _alerting import (
    CeleryQueue,
    Client,
    alert_parser,
    alert_start,
    process_group_cpu,
    worker_running,
)
from _common import (
    CpuMeter,
    create_token,
    emit,
    log,
    percentile,
    server_running,
)
from tqdm import tqdm

TEAM = "bench-alert-latency"
RULE_NAME = "bench latency"
METRIC = "bench_latency"
BACKGROUND_METRIC = "bench_latency_bg"
NORMAL_VALUE = 10.0
BREACH_VALUE = 95.0
THRESHOLD = 90.0
GOAL_P95_MS = 2000
FIRST_WARMUP_TIMEOUT_S = 60.0
POLL_SQL = (
    "SELECT extract(epoch FROM fired_at) FROM alerts_alert "
    "WHERE team_id = %s AND fingerprint = %s AND status = 'firing'"
)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def ingest_body(metric: str, labels_list: list[dict[str, str]], ts: float, value: float) -> bytes:
    return orjson.dumps(
        {"series": [{"metric": metric, "labels": labels, "points": [[ts, value]]} for labels in labels_list]}
    )


def setup_rule() -> tuple[int, int]:
    """(team id, rule id): the bench rule, created or reset to the benchmark's definition."""
    from alerts.models import AlertRule
    from core.teams.models import Team

    team = Team.objects.get(slug=TEAM)
    rule, _ = AlertRule.objects.update_or_create(
        team=team,
        name=RULE_NAME,
        defaults={
            "kind": "threshold",
            "enabled": True,
            "metric": METRIC,
            "matchers": [],
            "aggregation": AlertRule.Aggregation.LAST,
            "window": timedelta(minutes=5),
            "comparator": AlertRule.Comparator.GT,
            "critical_threshold": THRESHOLD,
            "warning_threshold": None,
            "recovery_threshold": None,
            "for_duration": timedelta(0),
            "service": None,
            "labels": {},
        },
    )
    rule.full_clean()
    # Other rules of the team would add evaluation work: only ours is enabled.
    AlertRule.objects.filter(team=team).exclude(pk=rule.pk).update(enabled=False)
    return team.id, rule.id


def alert_fingerprint(rule_id: int, series_labels: dict[str, str]) -> str:
    """The fingerprint alerts.services.rules gives the rule's alert for a series (no service, no rule labels)."""
    from alerts.services.alerts import fingerprint_for

    labels = dict(series_labels)
    labels.update({"alertname": RULE_NAME, "metric": METRIC})
    return fingerprint_for("rule", rule_id, labels)


def cleanup(conninfo: str, team_id: int, *, keep_tokens: bool = False) -> None:
    """Delete everything the benchmark created for its team except the team and the rule."""
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        ids = [r[0] for r in conn.execute("SELECT id FROM metrics_series WHERE team_id = %s", [team_id])]
        conn.execute(
            "DELETE FROM alerts_alertevent WHERE alert_id IN (SELECT id FROM alerts_alert WHERE team_id = %s)",
            [team_id],
        )
        alerts = conn.execute("DELETE FROM alerts_alert WHERE team_id = %s", [team_id]).rowcount
        conn.execute(
            "DELETE FROM alerts_incidentevent WHERE incident_id IN (SELECT id FROM alerts_incident WHERE team_id = %s)",
            [team_id],
        )
        conn.execute("DELETE FROM alerts_incident WHERE team_id = %s", [team_id])
        conn.execute(
            "DELETE FROM alerts_rulestate WHERE rule_id IN (SELECT id FROM alerts_alertrule WHERE team_id = %s)",
            [team_id],
        )
        if ids:
            conn.execute("DELETE FROM metrics_sample WHERE series_id = ANY(%s)", [ids])
            conn.execute("DELETE FROM metrics_rollup_dirty WHERE series_id = ANY(%s)", [ids])
            conn.execute("DELETE FROM metrics_series WHERE id = ANY(%s)", [ids])
        if not keep_tokens:
            conn.execute("DELETE FROM teams_apitoken WHERE team_id = %s", [team_id])
    log(f"cleanup: {alerts} alerts, {len(ids)} series deleted in {time.perf_counter() - started:.1f}s")


class Background:
    """Unrelated ingest traffic at a fixed rate (open loop: a late request is sent at once, never
    skipped). Each request carries one point for each of the next `series` series of a pool sized
    so that every series gets one point every `interval` seconds, like scraped hosts."""

    def __init__(
        self, *, port: int, token: str, rps: float, clients: int, series: int, interval: float, metric: str, run: str
    ):
        self.port = port
        self.token = token
        self.rps = rps
        self.clients = max(1, clients)
        self.series = max(1, series)
        pool = max(self.series, round(rps * self.series * interval))
        self.labels = [{"run": run, "bg": f"b{j:06d}"} for j in range(pool)]
        self.next_series = 0
        self.metric = metric
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.sent = 0
        self.errors: list[str] = []
        self.latencies: list[float] = []
        self.threads: list[threading.Thread] = []
        self.started = 0.0
        self.stopped = 0.0

    def worker(self, index: int, max_requests: int) -> None:
        client = Client(self.port, self.token)
        interval = self.clients / self.rps
        next_at = self.started + index / self.rps
        try:
            for _ in range(max_requests):
                delay = next_at - time.perf_counter()
                if delay > 0 and self.stop_event.wait(delay):
                    return
                if self.stop_event.is_set():
                    return
                next_at += interval
                with self.lock:
                    first = self.next_series
                    self.next_series = (first + self.series) % len(self.labels)
                labels = [self.labels[(first + j) % len(self.labels)] for j in range(self.series)]
                body = ingest_body(self.metric, labels, time.time(), NORMAL_VALUE)
                try:
                    status, raw, seconds = client.request("POST", "/api/v1/ingest", body)
                except OSError as exc:
                    with self.lock:
                        self.errors.append(repr(exc))
                    continue
                with self.lock:
                    self.sent += 1
                    self.latencies.append(seconds)
                    if status != 200:
                        self.errors.append(f"HTTP {status} {raw[:200]!r}")
        finally:
            client.close()

    def start(self, max_seconds: float) -> None:
        if self.rps <= 0:
            return
        self.started = time.perf_counter()
        per_client = int(self.rps * max_seconds / self.clients) + 1
        self.threads = [
            threading.Thread(target=self.worker, args=(i, per_client), daemon=True) for i in range(self.clients)
        ]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        if not self.threads:
            return
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=60)
        self.stopped = time.perf_counter()

    def report(self) -> dict:
        if self.rps <= 0:
            return {"background_rps": 0}
        wall = max(1e-9, (self.stopped or time.perf_counter()) - self.started)
        return {
            "background_rps": self.rps,
            "background_rps_achieved": round(self.sent / wall, 1),
            "background_series_per_request": self.series,
            "background_series": len(self.labels),
            "background_metric": self.metric,
            "background_rtt_ms_p50": ms(percentile(self.latencies, 50)) if self.latencies else None,
            "background_rtt_ms_p95": ms(percentile(self.latencies, 95)) if self.latencies else None,
            "background_errors": len(self.errors),
        }


class QueueSampler:
    """Length of the Celery queue every `interval` seconds while the timed phase runs (bounded)."""

    def __init__(self, queue: CeleryQueue, interval: float = 0.25, max_samples: int = 100_000) -> None:
        self.queue = queue
        self.interval = interval
        self.max_samples = max_samples
        self.samples: list[int] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        for _ in range(self.max_samples):
            try:
                self.samples.append(self.queue.length())
            except Exception as exc:  # a broken sampler must not break the benchmark
                log(f"queue sampler stopped: {exc!r}")
                return
            if self.stop_event.wait(self.interval):
                return

    def __enter__(self) -> QueueSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)

    def report(self) -> dict:
        return {
            "queue_len_p50": int(percentile(self.samples, 50)) if self.samples else None,
            "queue_len_max": max(self.samples) if self.samples else None,
        }


class Prober:
    """One iteration at a time: normal POST, breaching POST, poll until the alert fires."""

    def __init__(self, *, port: int, token: str, conninfo: str, team_id: int, rule_id: int, run: str, poll_s: float):
        self.client = Client(port, token)
        self.db = psycopg.connect(conninfo, autocommit=True)
        self.team_id = team_id
        self.rule_id = rule_id
        self.run = run
        self.poll_s = poll_s
        self.rtts: list[float] = []
        self.errors: list[str] = []

    def post(self, labels: dict[str, str], ts: float, value: float) -> tuple[float, bool, float]:
        """(send wall-clock time, accepted, round trip in seconds)."""
        body = ingest_body(METRIC, [labels], ts, value)
        sent = time.time()
        status, raw, seconds = self.client.request("POST", "/api/v1/ingest", body)
        ok = status == 200 and orjson.loads(raw).get("accepted") == 1
        if not ok:
            self.errors.append(f"ingest HTTP {status}: {raw[:200]!r}")
        return sent, ok, seconds

    def iteration(self, i: int, timeout: float, *, timed: bool) -> dict | None:
        labels = {"host": f"h{i:05d}", "run": self.run}
        fingerprint = alert_fingerprint(self.rule_id, labels)
        normal_ts = time.time()
        _, ok, rtt_normal = self.post(labels, normal_ts, NORMAL_VALUE)
        if not ok:
            return None
        # A later timestamp (aggregation `last`), never the same one (that would be a duplicate).
        t0, ok, rtt_breach = self.post(labels, max(time.time(), normal_ts + 1e-3), BREACH_VALUE)
        if not ok:
            return None
        if timed:
            self.rtts += [rtt_normal, rtt_breach]
        deadline = time.monotonic() + timeout
        prepared = True
        while True:
            row = self.db.execute(POLL_SQL, [self.team_id, fingerprint], prepare=prepared).fetchone()
            seen = time.time()
            if row is not None:
                fired_at = float(row[0]) if row[0] is not None else seen
                return {"latency": seen - t0, "fired": fired_at - t0, "rtt": rtt_breach}
            if time.monotonic() > deadline:
                self.errors.append(f"iteration {i}: no firing alert within {timeout:g}s")
                return {"latency": None}
            time.sleep(self.poll_s)

    def api_count(self, status: str) -> int:
        code, raw, _ = self.client.request("GET", f"/api/v1/alerts?status={status}&q={self.run}&limit=1")
        if code != 200:
            raise SystemExit(f"GET /api/v1/alerts answered {code}: {raw[:200]!r}")
        return orjson.loads(raw)["count"]

    def close(self) -> None:
        self.client.close()
        self.db.close()


def summary(values: list[float], prefix: str) -> dict:
    if not values:
        return {f"{prefix}_ms_p50": None, f"{prefix}_ms_p95": None, f"{prefix}_ms_max": None}
    return {
        f"{prefix}_ms_p50": ms(percentile(values, 50)),
        f"{prefix}_ms_p95": ms(percentile(values, 95)),
        f"{prefix}_ms_max": ms(max(values)),
    }


def main() -> None:
    parser = alert_parser(__doc__)
    parser.add_argument("--alerts", type=int, default=50, help="timed iterations (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations first (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each alert (failure after)")
    parser.add_argument("--poll-ms", type=float, default=10.0, help="poll interval of the alert table")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (default %(default)s)")
    parser.add_argument("--background-rps", type=float, default=0, help="background ingest requests/s (default 0)")
    parser.add_argument("--background-series", type=int, default=100, help="series in each background request")
    parser.add_argument("--background-clients", type=int, default=2, help="background connections (default 2)")
    parser.add_argument(
        "--background-interval",
        type=float,
        default=10.0,
        help="seconds between two points of one background series (sets the number of series; default 10)",
    )
    parser.add_argument(
        "--background-watched",
        action="store_true",
        help="send the background traffic to the rule's metric (queues evaluation tasks ahead of ours)",
    )
    parser.add_argument(
        "--max-consecutive-failures",
        type=int,
        default=5,
        help="stop the timed phase after this many alerts in a row did not fire in time (default %(default)s)",
    )
    parser.add_argument("--max-seconds", type=float, default=900, help="upper bound of the background traffic")
    parser.add_argument("--keep", action="store_true", help="keep the alerts, series and samples afterwards")
    args = parser.parse_args()
    start = alert_start(args)
    conninfo, dbname, run = start.conninfo, start.dbname, f"r{start.run}"
    token = create_token(args.database_url, team=TEAM, name=f"bench alert latency {run}", scopes="ingest,read")
    team_id, rule_id = setup_rule()
    cleanup(conninfo, team_id, keep_tokens=True)  # leftovers of an interrupted run
    queue = CeleryQueue(args.redis_url, args.database_url)
    queue.purge("left by an earlier run")
    queue_left = None

    results: list[dict] = []
    background = None
    try:
        with (
            server_running(args.database_url, args.port, debug=args.debug) as server,
            worker_running(args.database_url, concurrency=args.concurrency, debug=args.debug) as worker,
        ):
            prober = Prober(
                port=args.port,
                token=token,
                conninfo=conninfo,
                team_id=team_id,
                rule_id=rule_id,
                run=run,
                poll_s=args.poll_ms / 1000,
            )
            try:
                for i in range(args.warmup):
                    timeout = FIRST_WARMUP_TIMEOUT_S if i == 0 else args.timeout
                    result = prober.iteration(i, timeout, timed=False)
                    worker.check_alive()
                    if result is None or result["latency"] is None:
                        raise SystemExit(f"warm-up alert {i} never fired: {prober.errors[-1:]}; see {worker.log_path}")
                    log(f"warm-up {i}: {ms(result['latency'])} ms")
                prober.errors.clear()
                metric = METRIC if args.background_watched else BACKGROUND_METRIC
                background = Background(
                    port=args.port,
                    token=token,
                    rps=args.background_rps,
                    clients=args.background_clients,
                    series=args.background_series,
                    interval=args.background_interval,
                    metric=metric,
                    run=run,
                )
                worker_cpu_before = process_group_cpu(worker.pid)
                consecutive_failures = 0
                with CpuMeter(server_pid=server.pid, dbname=dbname) as meter, QueueSampler(queue) as sampler:
                    background.start(args.max_seconds)
                    if args.background_rps > 0:
                        # One whole interval first: every background series exists, the load is steady.
                        time.sleep(min(args.background_interval, 60) + 1)
                    for i in tqdm(range(args.warmup, args.warmup + args.alerts), desc="alerts", file=sys.stderr):
                        result = prober.iteration(i, args.timeout, timed=True) or {"latency": None}
                        results.append(result)
                        worker.check_alive()
                        consecutive_failures = 0 if result["latency"] is not None else consecutive_failures + 1
                        if consecutive_failures >= args.max_consecutive_failures:
                            log(f"{consecutive_failures} alerts in a row did not fire: stopping the timed phase")
                            break
                    background.stop()
                worker_cpu_after = process_group_cpu(worker.pid)
                queue_left = queue.length()
                firing_in_api = prober.api_count("firing")
            finally:
                if background is not None:
                    background.stop()
                prober.close()
    finally:
        queue.purge("left when the worker stopped")
        queue.close()
        if not args.keep:
            cleanup(conninfo, team_id)

    ok = [r for r in results if r.get("latency") is not None]
    latencies = [r["latency"] for r in ok]
    fired = [r["fired"] for r in ok]
    evaluate = [r["latency"] - r["fired"] for r in ok]
    rtt_p95 = percentile(prober.rtts, 95) if prober.rtts else None
    latency_p95 = percentile(latencies, 95) if latencies else None
    cpu = meter.report()
    wall = meter.after["t"] - meter.before["t"]
    worker_cpu = sum(c - worker_cpu_before.get(pid, 0.0) for pid, c in worker_cpu_after.items())
    worker_pct = round(100 * worker_cpu / wall)
    cpu["worker_cpu_pct"] = worker_pct
    cpu["other_cpu_pct"] = max(0, cpu["other_cpu_pct"] - worker_pct)
    result = {
        **summary(latencies, "latency"),
        "ingest_rtt_ms_p50": ms(percentile(prober.rtts, 50)) if prober.rtts else None,
        "ingest_rtt_ms_p95": ms(rtt_p95) if rtt_p95 else None,
        "ratio": round(latency_p95 / rtt_p95, 2) if latency_p95 and rtt_p95 else None,
        **summary(fired, "fired_at"),
        **summary(evaluate, "evaluate"),
        "alerts": len(results),
        "fired": len(ok),
        "failures": len(results) - len(ok),
        "complete": len(results) == args.alerts,
        "ingest_errors": len([e for e in prober.errors if e.startswith("ingest")]),
        "firing_in_api": firing_in_api,
        **background.report(),
        **sampler.report(),
        "queue_len_at_end": queue_left,
        "concurrency": args.concurrency,
        "poll_ms": args.poll_ms,
        "timeout_s": args.timeout,
        **cpu,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "debug": args.debug,
        "goal_p95_ms": GOAL_P95_MS,
        "meets_goal": bool(latency_p95 is not None and latency_p95 * 1000 <= GOAL_P95_MS and len(ok) == args.alerts),
        "wall_s": round(wall, 1),
        "total_s": round(time.perf_counter() - start.started, 1),
    }
    for error in prober.errors[:5]:
        log(f"error: {error}")
    emit(result, args.json)


if __name__ == "__main__":
    main()
