"""Shared helpers of the alerting benchmarks (alert_latency.py, alert_list.py), on top of _common.

Isolation, stricter than _common.check_isolation because other benchmarks run on this machine:

- database `hiveops_alertbench` by default; `hiveops`, `test_hiveops*` and the other
  benchmarks' `hiveops_bench` are refused;
- the web server listens on 127.0.0.1:8200 by default; 8000 and 8100 are refused;
- the server and the Celery worker use Redis database 13 (`REDIS_URL`, which is also the Celery
  broker), so their queue is not shared with anyone; database 0 (the settings' default) is refused.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import signal
import subprocess
import time
from urllib.parse import urlparse

from _common import (
    HOST,
    ROOT,
    Child,
    Start,
    bench_parser,
    bench_start,
    celery_queue_key,
    check_isolation,
    cpu_seconds,
    log,
    processes,
    use_redis,
)

DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_alertbench"
DEFAULT_PORT = 8200
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
CELERY = ROOT / ".venv" / "bin" / "celery"
FORBIDDEN_PORTS = {8000, 8100}
WORKER_STOP_TIMEOUT_S = 20


def alert_parser(doc: str | None, *, web: bool = False) -> argparse.ArgumentParser:
    """bench_parser with the alert benchmarks' database, port and Redis (the cache, channel layer
    and Celery broker of their server and worker)."""
    return bench_parser(doc, web=web, redis_url=DEFAULT_REDIS_URL, database_url=DEFAULT_DATABASE_URL, port=DEFAULT_PORT)


def alert_start(args: argparse.Namespace) -> Start:
    """The alert benchmarks' start: their stricter isolation, their Redis for every process
    started from here, then bench_start."""
    check_alert_isolation(args.database_url, args.port, args.redis_url)
    use_redis(args.redis_url)
    return bench_start(args.database_url)


def check_alert_isolation(database_url: str, port: int, redis_url: str) -> None:
    check_isolation(database_url, port)
    name = urlparse(database_url).path.lstrip("/")
    if name.startswith("test_hiveops") or name == "hiveops_bench":
        raise SystemExit(f"refusing to use database {name!r}: use hiveops_alertbench")
    if port in FORBIDDEN_PORTS:
        raise SystemExit(f"refusing to use port {port}: use 8200")
    redis = urlparse(redis_url)
    if redis.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"refusing to use a non-local Redis host {redis.hostname!r}")
    if redis.path.strip("/") in ("", "0"):
        raise SystemExit("refusing Redis database 0 (shared with the development server): use /13")


def db_sessions(conninfo: str, dbname: str) -> int:
    """Sessions ever opened on the database (pg_stat_database.sessions, PostgreSQL 14+), this probe included."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [dbname]).fetchone()
        return int(row[0])


def process_group_pids(pgid: int) -> list[int]:
    """Pids whose process group is `pgid` (a process started with start_new_session and its children)."""
    return [pid for pid, fields in processes() if int(fields[2]) == pgid]


def process_group_cpu(pgid: int) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in process_group_pids(pgid)}


def stop_process_group(proc: subprocess.Popen, timeout: float, what: str) -> None:
    """SIGTERM the process we started (a Celery worker then stops its pool itself: warm shutdown),
    SIGKILL its whole process group (created with start_new_session, killed by its id) if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    # Prefork children may outlive the parent for a moment; they are in its group.
    deadline = time.monotonic() + 5
    while process_group_pids(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in process_group_pids(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    log(f"{what} pid {proc.pid} stopped")


class Worker(Child):
    """A Celery worker (`celery -A hive_ops worker`) against the bench database and Redis database."""

    def __init__(self, database_url: str, *, concurrency: int = 2, debug: bool = False, tag: str = "alertbench"):
        super().__init__(database_url, debug=debug, log_name=f"bench-celery-{tag}.log")
        self.concurrency = concurrency
        self.tag = tag

    def start(self) -> None:
        self.spawn(
            [
                str(CELERY),
                "-A",
                "hive_ops",
                "worker",
                "--concurrency",
                str(self.concurrency),
                "--loglevel",
                "WARNING",
                "-n",
                f"{self.tag}-{os.getpid()}@%h",
            ]
        )
        log(f"celery worker pid {self.proc.pid} started (log {self.log_path})")

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise SystemExit(f"celery worker exited with {self.proc.returncode}; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process_group(self.proc, WORKER_STOP_TIMEOUT_S, "celery worker")


@contextlib.contextmanager
def worker_running(database_url: str, *, concurrency: int = 2, debug: bool = False):
    worker = Worker(database_url, concurrency=concurrency, debug=debug)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


class CeleryQueue:
    """The worker's Redis queue (list `<installation>:celery` in the bench Redis database): length,
    and purge."""

    def __init__(self, redis_url: str, database_url: str = DEFAULT_DATABASE_URL) -> None:
        import redis

        self.redis = redis.Redis.from_url(redis_url)
        self.keys = [celery_queue_key(database_url, name) for name in ("celery", "unacked", "unacked_index")]

    def length(self) -> int:
        return int(self.redis.llen(self.keys[0]))

    def purge(self, why: str) -> int:
        """Drop queued and unacknowledged tasks (only ever in the bench's own Redis database)."""
        waiting = self.length() + int(self.redis.hlen(self.keys[1]))
        if waiting:
            self.redis.delete(*self.keys)
            log(f"dropped {waiting} queued task(s) {why}")
        return waiting

    def close(self) -> None:
        self.redis.close()


class Client:
    """One keep-alive HTTP/1.1 connection to the bench server; reconnects after an error."""

    def __init__(self, port: int, token: str, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.headers = {"Authorization": f"Bearer {token}"}
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        return self.conn

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, float]:
        """(status, body, seconds from sending to the whole response read)."""
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn = self._connection()
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        return response.status, data, time.perf_counter() - started

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
