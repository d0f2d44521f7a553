"""Soak: mixed ingest, API reads and live WebSocket clients at half the measured capacity for
--minutes (default 30). Goal: zero errors, and the resident memory of the web process and of the
Celery worker grows by at most 10 % after warm-up.

What it does (database hiveops_soakbench, Redis database 5, daphne on 127.0.0.1:8400 — never
`hiveops`, Redis database 0 or port 8000):

1. Drops and re-creates the bench database (migrated), flushes Redis database 5, creates team
   `soak`, an API token (ingest, read) and a logged-in member session for the WebSockets.
2. Starts daphne (DEBUG=false), a Celery worker (prefork, concurrency 2, as in deployment.md) and
   Celery beat, all on the bench database and Redis database 5. Rate limits are switched off for
   the bench server (HIVEOPS_RATE_*=0): this measures the server, not the throttle.
3. Opens --ws-clients live WebSockets (`/ws/live/?since=&batch=1`, as the page does), kept open
   for the whole run; each must get `ready` and then metric ticks.
4. Capacity (unless --capacity is given): --capacity-seconds of closed-loop load by --clients
   keep-alive HTTP clients; the mix is two ingests (--series series x 1 point each, JSON) for
   every read (alternately a series listing and a 1-hour `query_range` at 60 s steps).
   Capacity = completed requests per second.
5. Soak: the same mix paced at half that rate (open loop: each request has a slot; a late client
   does not catch up by bursting) for --minutes. RSS (VmRSS of the process and its children) of
   daphne and of the worker is sampled every --sample-seconds. The first --warmup-minutes are
   warm-up; growth = median RSS of the last --window-minutes / median RSS of the first
   --window-minutes after warm-up - 1.

Errors: any HTTP status other than 200, any exception or timeout, a WebSocket that closes or that
never receives a tick. Output: one JSON line with --json (progress on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import os
import random
import statistics
import subprocess
import threading
import time
from collections import defaultdict
from urllib.parse import urlparse

import orjson
import psycopg
from _common import (
    HOST,
    PYTHON,
    ROOT,
    CpuMeter,
    bench_parser,
    bench_start,
    celery_queue_key,
    check_named_isolation,
    database_name,
    emit,
    log,
    percentile,
    psycopg_conninfo,
    server_running,
    use_redis,
)
from memory import rss_mb

DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_soakbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
DEFAULT_PORT = 8400
TEAM = "soak"
METRIC = "soak_metric"
GOAL_GROWTH_PCT = 10.0
RATE_LIMIT_ENV = {
    "HIVEOPS_RATE_INGEST_PER_TOKEN": "0",
    "HIVEOPS_RATE_INGEST_PER_TEAM": "0",
    "HIVEOPS_RATE_API_PER_CALLER": "0",
    "HIVEOPS_RATE_API_PER_TEAM": "0",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = bench_parser(__doc__, redis_url=DEFAULT_REDIS_URL, database_url=DEFAULT_DATABASE_URL, port=DEFAULT_PORT)
    parser.add_argument("--minutes", type=float, default=30, help="soak duration (default %(default)s)")
    parser.add_argument("--warmup-minutes", type=float, help="excluded from the growth (default: minutes / 6)")
    parser.add_argument("--window-minutes", type=float, help="RSS window compared (default: minutes / 10)")
    parser.add_argument("--capacity", type=float, help="requests/s at full load (default: measure it)")
    parser.add_argument("--capacity-seconds", type=float, default=30, help="capacity probe (default %(default)s)")
    parser.add_argument("--clients", type=int, default=4, help="HTTP clients (default %(default)s)")
    parser.add_argument("--series", type=int, default=100, help="series per ingest request (default %(default)s)")
    parser.add_argument("--groups", type=int, default=10, help="distinct series groups (default %(default)s)")
    parser.add_argument("--ws-clients", type=int, default=20, help="live WebSockets (default %(default)s)")
    parser.add_argument("--sample-seconds", type=float, default=10, help="RSS sampling (default %(default)s)")
    parser.add_argument("--no-beat", action="store_true", help="do not run Celery beat")
    return parser.parse_args(argv)


def check_soak_isolation(args: argparse.Namespace) -> None:
    check_named_isolation(args.database_url, args.port, args.redis_url, database="hiveops_soakbench", redis_db=5)


# --- set-up ------------------------------------------------------------------------------------


def drop_database(database_url: str) -> None:
    """Each soak starts from an empty database (bench_start makes and migrates it again)."""
    name = database_name(database_url)
    with psycopg.connect(psycopg_conninfo(database_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(args: argparse.Namespace) -> tuple[str, str]:
    """Flush the bench Redis database; the team, a token and a logged-in member's cookie."""
    import redis
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from core.teams.services import api_token_create, membership_ensure, team_get_or_create
    from metrics import storage

    redis.Redis.from_url(args.redis_url).flushdb()
    with connection.cursor() as cursor:
        storage.layout_prepare(cursor, days_back=1, days_ahead=3)
    team = team_get_or_create(slug=TEAM, name="Soak")[0]
    user = get_user_model().objects.get_or_create(username=TEAM)[0]
    membership_ensure(team=team, user=user)
    token = api_token_create(team=team, name="soak", scopes=["ingest", "read"])[1]
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return token, f"{name}={client.cookies[name].value}"


@contextlib.contextmanager
def celery(args: argparse.Namespace, *command: str):
    """A Celery process on the bench database and Redis database, stopped at the end."""
    name = command[0]
    log_path = ROOT / ".run" / f"soak-{name}.log"
    env = {**os.environ, "DATABASE_URL": args.database_url, "DEBUG": "false", "LOG_LEVEL": "WARNING"}
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [str(PYTHON), "-m", "celery", "-A", "hive_ops", *command, "-l", "WARNING"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    log(f"celery {name} pid {proc.pid} (log {log_path})")
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            proc.wait(timeout=5)


# --- load --------------------------------------------------------------------------------------


class Load:
    """The request mix, shared by the client threads: slot n is an ingest unless n % 3 == 2."""

    def __init__(self, args: argparse.Namespace, token: str) -> None:
        self.args = args
        self.token = token
        self.series_uids: list[str] = []
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.samples = 0
        self.lock = threading.Lock()

    def body(self, n: int) -> bytes:
        group = n % self.args.groups
        now = time.time()
        series = [
            {"metric": METRIC, "labels": {"group": str(group), "i": str(i)}, "points": [[now, random.random() * 100]]}
            for i in range(self.args.series)
        ]
        return orjson.dumps({"series": series})

    def one(self, conn: http.client.HTTPConnection, n: int) -> http.client.HTTPConnection:
        headers = {"Authorization": f"Bearer {self.token}"}
        if n % 3 != 2:
            kind, method, path, body = "ingest", "POST", "/api/v1/ingest", self.body(n)
            headers["Content-Type"] = "application/json"
        elif (n // 3) % 2 == 0 or not self.series_uids:
            kind, method, path, body = "series", "GET", f"/api/v1/series?metric={METRIC}&limit=50", None
        else:
            uid = self.series_uids[n % len(self.series_uids)]
            start = int(time.time()) - 3600
            kind, method, path, body = "query", "GET", f"/api/v1/query_range?series={uid}&start={start}&step=60", None
        began = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self.record_error(f"{kind}: {exc!r}")
            return http.client.HTTPConnection(HOST, self.args.port, timeout=60)
        elapsed = time.perf_counter() - began
        if status != 200:
            self.record_error(f"{kind}: HTTP {status} {payload[:200]!r}")
            return conn
        with self.lock:
            self.latency[kind].append(elapsed)
            if kind == "ingest":
                self.samples += self.args.series
            elif kind == "series" and not self.series_uids:
                self.series_uids = [s["id"] for s in orjson.loads(payload)["results"]]
        return conn

    def record_error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)
        if len(self.errors) <= 10:
            log(f"error: {message}")

    def reset(self) -> None:
        with self.lock:
            self.latency = defaultdict(list)
            self.samples = 0

    def requests(self) -> int:
        return sum(len(v) for v in self.latency.values())

    def run(self, *, seconds: float, rate: float | None) -> float:
        """Closed loop (rate None) or paced at `rate` requests/s; returns the elapsed time."""
        counter = iter(range(10**12))
        counter_lock = threading.Lock()
        started = time.perf_counter()
        deadline = started + seconds

        def client() -> None:
            conn = http.client.HTTPConnection(HOST, self.args.port, timeout=60)
            while True:
                with counter_lock:
                    n = next(counter)
                if rate is not None:
                    slot = started + n / rate
                    if slot >= deadline:
                        break
                    delay = slot - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                elif time.perf_counter() >= deadline:
                    break
                conn = self.one(conn, n)
            conn.close()

        threads = [threading.Thread(target=client, daemon=True) for _ in range(self.args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


# --- WebSocket clients -------------------------------------------------------------------------


class LiveClients:
    """--ws-clients connections in one event loop thread; counts frames and errors."""

    def __init__(self, url: str, cookie: str, count: int) -> None:
        self.url, self.cookie, self.count = url, cookie, count
        self.ready = 0
        self.ticks = [0] * count
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _one(self, i: int) -> None:
        from websockets.asyncio.client import connect

        origin = "http://" + urlparse(self.url).netloc
        try:
            async with connect(
                self.url, additional_headers={"Cookie": self.cookie, "Origin": origin}, open_timeout=60
            ) as ws:
                while not self.stop.is_set():
                    try:
                        text = await asyncio.wait_for(ws.recv(), 1.0)
                    except TimeoutError:
                        continue
                    decoded = orjson.loads(text)
                    for event in decoded if isinstance(decoded, list) else [decoded]:
                        if event.get("type") == "ready":
                            self.ready += 1
                        elif event.get("type") == "metric.tick":
                            self.ticks[i] += 1
        except Exception as exc:
            self.errors.append(f"ws {i}: {exc!r}")

    async def _main(self) -> None:
        await asyncio.gather(*(self._one(i) for i in range(self.count)))

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 120
        while self.ready < self.count and not self.errors and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.ready < self.count:
            raise SystemExit(f"only {self.ready}/{self.count} WebSockets got ready: {self.errors[:3]}")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


# --- memory ------------------------------------------------------------------------------------


class MemorySampler:
    def __init__(self, pids: dict[str, int], interval: float) -> None:
        self.pids, self.interval = pids, interval
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while not self.stop.is_set():
            self.samples.append((time.monotonic() - started, {k: rss_mb(p) for k, p in self.pids.items()}))
            self.stop.wait(self.interval)

    def report(self, *, warmup_s: float, window_s: float, total_s: float) -> dict:
        out = {}
        for name in self.pids:
            first = [s[name] for t, s in self.samples if warmup_s <= t < warmup_s + window_s]
            last = [s[name] for t, s in self.samples if t >= total_s - window_s]
            every = [s[name] for _, s in self.samples]
            if not first or not last:
                out[name] = {"error": "too few samples"}
                continue
            base, end = statistics.median(first), statistics.median(last)
            out[name] = {
                "rss_mb_start": round(every[0], 1),
                "rss_mb_after_warmup": round(base, 1),
                "rss_mb_end": round(end, 1),
                "rss_mb_peak": round(max(every), 1),
                "growth_pct": round(100 * (end / base - 1), 2),
            }
        return out


def latency_ms(values: list[float]) -> dict:
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1) if values else None,
        "p99_ms": round(percentile(values, 99) * 1000, 1) if values else None,
    }


def queue_length(redis_url: str, database_url: str) -> int:
    import redis

    return int(redis.Redis.from_url(redis_url).llen(celery_queue_key(database_url)))


def main() -> None:
    args = parse_args()
    check_soak_isolation(args)
    minutes = args.minutes
    warmup_s = 60 * (args.warmup_minutes if args.warmup_minutes is not None else minutes / 6)
    window_s = 60 * (args.window_minutes if args.window_minutes is not None else minutes / 10)
    total_s = 60 * minutes
    use_redis(args.redis_url)
    os.environ.update(RATE_LIMIT_ENV)
    drop_database(args.database_url)
    dbname = bench_start(args.database_url, debug=args.debug).dbname
    token, cookie = prepare(args)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(server_running(args.database_url, args.port, debug=args.debug))
        worker = stack.enter_context(celery(args, "worker", "--concurrency", "2", "--without-gossip"))
        if not args.no_beat:
            schedule = str(ROOT / ".run" / "soak-celerybeat-schedule")
            stack.enter_context(celery(args, "beat", "--schedule", schedule))
        live = LiveClients(f"ws://{HOST}:{args.port}/ws/live/?since=&batch=1", cookie, args.ws_clients)
        live.start()
        stack.callback(live.close)
        load = Load(args, token)
        load.run(seconds=3, rate=None)  # warm: connections, series created, caches
        if args.capacity:
            capacity = args.capacity
        else:
            load.reset()
            elapsed = load.run(seconds=args.capacity_seconds, rate=None)
            capacity = load.requests() / elapsed
            log(
                f"capacity: {capacity:.1f} requests/s ({load.requests()} in {elapsed:.1f} s, {len(load.errors)} errors)"
            )
        probe_errors = len(load.errors)
        target = capacity / 2
        load.reset()
        backlog_start = queue_length(args.redis_url, args.database_url)
        sampler = MemorySampler({"web": server.pid, "worker": worker.pid}, args.sample_seconds)
        log(f"soak: {target:.1f} requests/s for {minutes} min, {args.ws_clients} WebSockets")
        with CpuMeter(server_pid=server.pid, dbname=dbname) as cpu:
            sampler.thread.start()
            elapsed = load.run(seconds=total_s, rate=target)
            sampler.stop.set()
            sampler.thread.join()
        ticks = list(live.ticks)
        backlog = queue_length(args.redis_url, args.database_url)
    memory = sampler.report(warmup_s=warmup_s, window_s=window_s, total_s=elapsed)
    silent = sum(1 for t in ticks if t == 0)
    errors = len(load.errors) + len(live.errors) + silent
    growth_ok = all(m.get("growth_pct", 1e9) <= GOAL_GROWTH_PCT for m in memory.values())
    result = {
        "bench": "soak",
        "minutes": round(elapsed / 60, 2),
        "capacity_rps": round(capacity, 1),
        "target_rps": round(target, 1),
        "achieved_rps": round(load.requests() / elapsed, 1),
        "samples_per_s": round(load.samples / elapsed, 1),
        "requests": load.requests(),
        "latency": {kind: latency_ms(values) for kind, values in sorted(load.latency.items())},
        "http_errors": len(load.errors),
        "capacity_probe_errors": probe_errors,
        "ws_clients": args.ws_clients,
        "ws_errors": len(live.errors),
        "ws_clients_without_ticks": silent,
        "ws_ticks_min": min(ticks) if ticks else 0,
        "task_backlog_start": backlog_start,
        "task_backlog_end": backlog,
        "memory": memory,
        "warmup_minutes": round(warmup_s / 60, 2),
        "window_minutes": round(window_s / 60, 2),
        "errors": errors,
        "goal_growth_pct": GOAL_GROWTH_PCT,
        "pass": errors == 0 and growth_ok,
        **cpu.report(),
        "error_examples": (load.errors + live.errors)[:5],
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
