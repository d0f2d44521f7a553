"""Connections: a burst of --clients concurrent clients x --requests requests against one web
process (daphne). Goals: no 5xx, the process never holds more PostgreSQL connections than its pool
size (DB_POOL_MAX_SIZE), and it answers normally right after the burst.

What it does (database hiveops_connbench, Redis database 8, daphne on 127.0.0.1:8500 — never
`hiveops`, Redis database 0 or port 8000):

1. Creates the bench database if missing (migrated), flushes Redis database 8, creates team
   `conn` with a member (a logged-in session) and an API token (read).
2. Starts daphne (DEBUG=false) with PGAPPNAME set, so its connections can be told apart in
   pg_stat_activity, and the pool size of --pool-size.
3. Burst: --clients threads start together; each sends --requests requests on one keep-alive
   connection, cycling through a page (`/console/`), the API with the session (`/api/v1/alerts`),
   the API with the token (`/api/v1/series`) and the home page (`/`). Meanwhile another thread
   counts the web process's connections in pg_stat_activity every --sample-ms.
4. After the burst: one request of each kind must answer 200, and the connections still held are
   counted once the pool's idle ones have had time to be reused.

Output: status counts, 5xx count, client errors (refused/reset/timeouts), latency, the maximum
number of connections seen, and `pass`. One JSON line with --json (progress on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import threading
import time
from collections import Counter

import psycopg
from _common import (
    HOST,
    bench_parser,
    bench_start,
    check_named_isolation,
    emit,
    log,
    percentile,
    psycopg_conninfo,
    server_running,
    use_redis,
)

DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_connbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
DEFAULT_PORT = 8500
APP_NAME = "hiveops-connbench-web"
TEAM = "conn"
PATHS = ("/console/", "/api/v1/alerts", "/api/v1/series", "/")


def parse_args() -> argparse.Namespace:
    parser = bench_parser(__doc__, redis_url=DEFAULT_REDIS_URL, database_url=DEFAULT_DATABASE_URL, port=DEFAULT_PORT)
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients (default %(default)s)")
    parser.add_argument("--requests", type=int, default=4, help="requests per client (default %(default)s)")
    parser.add_argument("--pool-size", type=int, default=10, help="DB_POOL_MAX_SIZE of the server (default 10)")
    parser.add_argument("--sample-ms", type=int, default=20, help="pg_stat_activity sampling period")
    parser.add_argument("--timeout", type=float, default=60.0, help="client timeout per request, seconds")
    return parser.parse_args()


def prepare(redis_url: str) -> tuple[str, str]:
    """Flush the bench Redis database; a token and a logged-in member's session cookie."""
    import redis
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connections
    from django.test import Client

    from core.teams.services import api_token_create, membership_ensure, team_get_or_create

    redis.Redis.from_url(redis_url).flushdb()
    team = team_get_or_create(slug=TEAM, name="Connections")[0]
    user = get_user_model().objects.get_or_create(username=TEAM)[0]
    membership_ensure(team=team, user=user)
    token = api_token_create(team=team, name="connbench", scopes=["read"])[1]
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}"
    connections.close_all()
    for connection in connections.all():
        connection.close_pool()  # this script's own connections are not counted, but none are kept
    return token, cookie


class Sampler:
    """Counts the web process's connections (by application_name) every `period_s`."""

    def __init__(self, database_url: str, period_s: float) -> None:
        conninfo = psycopg_conninfo(database_url)
        self.conn = psycopg.connect(conninfo, autocommit=True, application_name="hiveops-connbench-sampler")
        self.period_s = period_s
        self.samples: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def count(self) -> int:
        row = self.conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME])
        return int(row.fetchone()[0])

    def _run(self) -> None:
        while not self.stop.is_set():
            self.samples.append(self.count())
            time.sleep(self.period_s)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> int:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


class Burst:
    def __init__(self, args: argparse.Namespace, token: str, cookie: str) -> None:
        self.args = args
        self.session = {"Cookie": cookie}
        self.bearer = {"Authorization": f"Bearer {token}"}
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []
        self.latency: list[float] = []
        self.lock = threading.Lock()
        self.start = threading.Barrier(args.clients + 1)

    def headers(self, path: str) -> dict[str, str]:
        return self.bearer if path == "/api/v1/series" else self.session

    def client(self, n: int) -> None:
        conn = http.client.HTTPConnection(HOST, self.args.port, timeout=self.args.timeout)
        self.start.wait()
        try:
            for i in range(self.args.requests):
                path = PATHS[(n + i) % len(PATHS)]
                started = time.perf_counter()
                try:
                    status = get(conn, path, self.headers(path))
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    with self.lock:
                        self.errors.append(f"{path}: {type(exc).__name__}: {exc}")
                    continue
                with self.lock:
                    self.statuses[status] += 1
                    self.latency.append(time.perf_counter() - started)
        finally:
            conn.close()

    def run(self) -> float:
        threads = [threading.Thread(target=self.client, args=(n,)) for n in range(self.args.clients)]
        for thread in threads:
            thread.start()
        self.start.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


def after_burst(args: argparse.Namespace, burst: Burst) -> dict[str, int]:
    """One request of each kind right after the burst, each on a fresh connection."""
    answers = {}
    for path in PATHS:
        conn = http.client.HTTPConnection(HOST, args.port, timeout=10)
        try:
            answers[path] = get(conn, path, burst.headers(path))
        except (OSError, http.client.HTTPException) as exc:
            answers[path] = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
    return answers


def main() -> None:
    args = parse_args()
    check_named_isolation(args.database_url, args.port, args.redis_url, database="hiveops_connbench", redis_db=8)
    use_redis(args.redis_url)
    os.environ.update({"DB_POOL_MAX_SIZE": str(args.pool_size), "PGAPPNAME": APP_NAME})
    bench_start(args.database_url, debug=args.debug)
    token, cookie = prepare(args.redis_url)
    with server_running(args.database_url, args.port, debug=args.debug):
        burst = Burst(args, token, cookie)
        with Sampler(args.database_url, args.sample_ms / 1000) as sampler:
            before = sampler.count()
            log(f"burst: {args.clients} clients x {args.requests} requests (server holds {before} connections)")
            elapsed = burst.run()
            answers = after_burst(args, burst)
        after = sampler.count()
    server_errors = sum(n for status, n in burst.statuses.items() if status >= 500)
    peak = max(sampler.samples, default=0)
    result = {
        "bench": "connections",
        "clients": args.clients,
        "requests_per_client": args.requests,
        "requests": args.clients * args.requests,
        "seconds": round(elapsed, 2),
        "statuses": {str(status): n for status, n in sorted(burst.statuses.items())},
        "server_errors_5xx": server_errors,
        "client_errors": len(burst.errors),
        "latency_p50_ms": round(percentile(burst.latency, 50) * 1000, 1) if burst.latency else None,
        "latency_p99_ms": round(percentile(burst.latency, 99) * 1000, 1) if burst.latency else None,
        "pool_size": args.pool_size,
        "db_connections_before": before,
        "db_connections_max": peak,
        "db_connections_after": after,
        "db_samples": len(sampler.samples),
        "after_burst": answers,
        "pass": server_errors == 0
        and not burst.errors
        and peak <= args.pool_size
        and all(status == 200 for status in answers.values()),
        "error_examples": burst.errors[:5],
    }
    emit(result, args.json)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
