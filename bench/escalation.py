"""Incident -> first notification latency of the escalation path, with a real Celery worker and a
local webhook receiver. Goal: 1,000 simultaneous incidents, every first notification delivered
within 10 s.

What it does (database hiveops_escbench, Redis database 12 — never `hiveops`, `test_hiveops*`,
the other benchmarks' databases, Redis database 0/13 or ports 8000/8100/8200):

1. Creates/migrates the bench database and flushes Redis database 12 (only that one).
2. Starts a webhook receiver (ThreadingHTTPServer in this process, 127.0.0.1, a free port) that
   records the arrival time, path and `incident.id` of every POST, and a Celery worker
   (`celery -A hive_ops worker --concurrency N --loglevel WARNING`) with DATABASE_URL/REDIS_URL
   pointing at the bench database and Redis database 12 (its log: .run/bench-celery-escbench.log).
3. Through the ORM: a team `escbench` (recreated every run), a webhook NotificationChannel to
   `<receiver>/notify`, an EscalationPolicy whose level 1 (wait 5 min) targets it and whose level 2
   targets a second channel (`<receiver>/level2`, must stay silent), a default EscalationRoute and a
   webhook Integration. A separate team `escbench-warmup` (same shape, `/warmup`) warms the worker's
   processes up (DB connections, imports) before the timed phase; its notifications do not count
   towards the timed channel's storm-control budget.
4. Baseline: `--baseline-posts` sequential POSTs to the receiver through the transport's own
   `post_json` (requests, a new connection each, like a delivery), worker idle.
5. Timed phase: `--creators` threads start together (a barrier) and raise `--incidents` distinct
   alerts (labels alertname=EscBench<i>, run=<run>, n=<i>, no service: one incident each) through
   the intake services: `webhook_receive`, one alert per transaction (`--batch 1`, the default), or
   `alertmanager_receive` with payloads of `--batch` alerts committed together (an alert storm).
   Each transaction is wrapped in an outer one whose first on_commit callback stamps the commit
   time; the app's own on_commit callbacks then start the escalations (`escalation_sync`,
   in the committing thread, as in a web request), which enqueue `paging.tasks.escalation_step`
   for the worker, which enqueues `deliver_notification`.
     latency = receiver arrival - commit of the incident (same process, same clock)
   With `--hold`, the worker's consumer is paused (Celery remote control `cancel_consumer`) while
   the incidents are created and resumed after the last commit: the whole burst reaches the worker
   at once and latency counts from that release (a true "1,000 simultaneous incidents", whatever
   the speed of incident creation here); `drain_s` = release -> last arrival.
   The phase ends when every incident's first notification arrived, when nothing more can come
   (no unstepped escalation and no pending/sending/retrying notification for 3 s), or at
   `--timeout` seconds after the last commit.
6. Stages (from the escalation and delivery logs, level 1):
     start   = Escalation.started_at - commit (on_commit, serial in the committing thread)
     step    = Notification.created_at - Escalation.started_at, or the release with --hold
              (escalation_step queued + run)
     deliver = arrival - Notification.created_at (deliver_notification queued + run + POST)
   and, from /proc and pg_stat_database: CPU of the worker's processes, of the bench database's
   backends (sampled), of this process and of everything else; sessions, transactions and active
   time per incident on the bench database.
7. Stops the worker and the receiver (also on error or a signal) and deletes both teams
   (`--keep` keeps them). One run at a time (a lock file in .run/): runs share the database and
   the Redis database.

`--worker-app MODULE` starts the worker as `celery -A MODULE` (a module importing hive_ops.celery
and changing settings or patching services for a what-if run; put it on PYTHONPATH).

Storm control (HIVEOPS_STORM_LIMIT_PER_MINUTE, default 10 per target and minute) holds back the
notifications of one target beyond the limit for the digest (sent by Celery beat, not started
here). Since 5f163d1 it applies to email, Slack and Teams only: this benchmark's webhook channel
gets every message. `--storm-limit N` sets the limit anyway (for older code, or a policy on a
storm-controlled kind); the JSON says which limit was in effect, and `notifications` counts
`digest_queued` deliveries if any.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import orjson
from _alerting import CELERY, Worker, process_group_cpu
from _common import (
    HOST,
    ROOT,
    cpu_seconds,
    django_env,
    emit,
    ensure_database,
    log,
    machine_busy_seconds,
    percentile,
    psycopg_conninfo,
    setup_django,
    stop_on_signals,
)

DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_escbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
FORBIDDEN_PORTS = {8000, 8100, 8200}
FORBIDDEN_REDIS_DBS = {"", "0", "13"}
TEAM = "escbench"
WARMUP_TEAM = "escbench-warmup"
GOAL_S = 10.0
WARMUP_TIMEOUT_S = 90.0
IDLE_STOP_S = 3.0
SETTLE_S = 2.0
MAX_TIMEOUT_S = 600.0


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def check_isolation(database_url: str, redis_url: str) -> None:
    db = urlparse(database_url)
    name = db.path.lstrip("/")
    if not name.startswith("hiveops_escbench"):  # never hiveops, test_hiveops*, other benchmarks' databases
        raise SystemExit(f"refusing to use database {name!r}: use hiveops_escbench (or hiveops_escbench_*)")
    if db.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"refusing to use a non-local database host {db.hostname!r}")
    redis = urlparse(redis_url)
    if redis.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"refusing to use a non-local Redis host {redis.hostname!r}")
    if redis.path.strip("/") in FORBIDDEN_REDIS_DBS:  # 0: development server, 13: alert benchmarks
        raise SystemExit(f"refusing Redis database {redis.path.strip('/') or '0'} (flushed at start): use /12")


def single_run_lock():
    """One run at a time: two runs would flush each other's Redis database and delete each other's teams."""
    path = ROOT / ".run" / "bench-escalation.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SystemExit(f"another bench/escalation.py run holds {path}; wait for it to end") from None
    return handle


def use_environment(args) -> None:
    """Every process started from here (worker, manage.py) and this one use the bench DB and Redis db."""
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["CELERY_BROKER_URL"] = args.redis_url
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # the worker does the work, never this process
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.storm_limit is not None:
        os.environ["HIVEOPS_STORM_LIMIT_PER_MINUTE"] = str(args.storm_limit)


def flush_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = client.dbsize()
        client.flushdb()  # FLUSHDB: only the database of the URL
    finally:
        client.close()
    log(f"flushed Redis {redis_url} ({keys} keys)")


class Receiver:
    """The webhook endpoint: records (arrival time, path, incident id) of every POST, answers 200."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.arrivals: list[tuple[float, str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                arrived = time.time()
                try:
                    incident = str(orjson.loads(body)["incident"]["id"])
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    incident = ""
                with receiver.lock:
                    receiver.arrivals.append((arrived, self.path, incident))
                if delay_s and self.path != "/baseline":
                    time.sleep(delay_s)  # a slow endpoint: the sender waits this long for the answer
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args) -> None:  # quiet
                return

        ThreadingHTTPServer.request_queue_size = 256
        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        if self.port in FORBIDDEN_PORTS:
            self.server.server_close()
            raise SystemExit(f"the kernel gave port {self.port}, which is reserved; run again")
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def start(self) -> None:
        self.thread.start()
        log(f"webhook receiver on {self.url('/')}")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        log("webhook receiver stopped")

    def snapshot(self) -> list[tuple[float, str, str]]:
        with self.lock:
            return list(self.arrivals)

    def first_arrivals(self, path: str) -> dict[str, float]:
        first: dict[str, float] = {}
        for arrived, p, incident in self.snapshot():
            if p == path and (incident not in first or arrived < first[incident]):
                first[incident] = arrived
        return first


class EscWorker(Worker):
    """_alerting.Worker with a choice of Celery app module (`--worker-app`, for what-if runs)."""

    def __init__(self, database_url: str, *, concurrency: int, app: str) -> None:
        super().__init__(database_url, concurrency=concurrency, tag="escbench")
        self.app = app
        self.node = f"{self.tag}-{os.getpid()}@{socket.gethostname()}"

    def consume(self, on: bool) -> None:
        """Pause or resume the worker's consumption of the default queue (Celery remote control)."""
        from django.conf import settings

        from hive_ops.celery import app

        queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
        command = app.control.add_consumer if on else app.control.cancel_consumer
        replies = command(queue, destination=[self.node], reply=True, timeout=5)
        if not replies:
            raise SystemExit(f"the worker {self.node} did not answer {command.__name__}")

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [str(CELERY), "-A", self.app, "worker", "--concurrency", str(self.concurrency)]
        command += ["--loglevel", "WARNING", "-n", self.node]
        with self.log_path.open("wb") as log_file:
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=django_env(self.database_url),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        log(f"celery worker pid {self.proc.pid} started: -A {self.app} (log {self.log_path})")


def make_team(slug: str, receiver: Receiver, path: str):
    """A team with a webhook channel, a two-level policy (level 2 on a second channel), a default
    route and a webhook integration. Recreated from scratch (cascade) on every run."""
    from alerts.services.integrations import integration_create
    from core.teams.models import Team
    from paging.models import EscalationLevel, EscalationPolicy, EscalationRoute, NotificationChannel

    delete_team(slug)
    team = Team.objects.create(slug=slug, name=f"bench {slug}")
    channel = NotificationChannel.objects.create(
        team=team, kind="webhook", name=f"{slug} receiver", config={"url": receiver.url(path)}
    )
    second = NotificationChannel.objects.create(
        team=team, kind="webhook", name=f"{slug} level 2", config={"url": receiver.url("/level2")}
    )
    policy = EscalationPolicy.objects.create(team=team, name=f"{slug} policy")
    for position, target in ((1, channel), (2, second)):
        level = EscalationLevel(policy=policy, position=position, wait=timedelta(minutes=5))
        level.full_clean()
        level.save()
        level.channels.add(target)
    EscalationRoute.objects.create(team=team, policy=policy, is_default=True)
    webhook, _ = integration_create(team=team, kind="webhook", name=f"{slug} webhook intake")
    alertmanager, _ = integration_create(team=team, kind="alertmanager", name=f"{slug} alertmanager intake")
    return team, {"webhook": webhook, "alertmanager": alertmanager}


def delete_team(slug: str) -> None:
    from core.teams.models import Team

    started = time.perf_counter()
    deleted, _ = Team.objects.filter(slug=slug).delete()
    if deleted:
        log(f"deleted team {slug} ({deleted} rows) in {time.perf_counter() - started:.1f}s")


def alert_labels(run: str, index: int) -> dict[str, str]:
    return {"alertname": f"EscBench{index}", "run": run, "n": str(index)}


def raise_incidents(integrations: dict, run: str, indices: list[int]) -> float:
    """Raise one alert (hence one incident) per index in ONE transaction, through the intake
    services: webhook_receive for a single alert, alertmanager_receive (one payload) for several.
    Returns the commit time."""
    from django.db import transaction

    from alerts.services.intake import alertmanager_receive, webhook_receive

    committed: list[float] = []
    with transaction.atomic():
        # The first on_commit callback: runs right after COMMIT, before the app's own callbacks
        # (escalation start, live events), which were registered later.
        transaction.on_commit(lambda: committed.append(time.time()))
        if len(indices) == 1:
            index = indices[0]
            body = {"summary": f"escbench {run} #{index}", "severity": "high", "labels": alert_labels(run, index)}
            webhook_receive(integration=integrations["webhook"], body=body)
        else:
            payload = {
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {**alert_labels(run, index), "severity": "error"},
                        "annotations": {"summary": f"escbench {run} #{index}"},
                    }
                    for index in indices
                ]
            }
            alertmanager_receive(integration=integrations["alertmanager"], payload=payload)
    return committed[0]


def create_incidents(
    team_id: int, integrations: dict, run: str, count: int, threads: int, batch: int
) -> tuple[dict[str, tuple[float, float]], list[str]]:
    """Raise `count` incidents from `threads` threads started together, `batch` alerts per
    transaction. Returns {incident uid: (commit time, opened_at)} and the errors."""
    from django.db import connection

    from alerts.models import Alert

    committed: dict[int, float] = {}
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)
    batches = [list(range(start, min(start + batch, count))) for start in range(0, count, batch)]

    def work(slot: int) -> None:
        try:
            barrier.wait(timeout=30)
            for indices in batches[slot::threads]:
                try:
                    at = raise_incidents(integrations, run, indices)
                except Exception as exc:
                    with lock:
                        errors.append(f"#{indices[0]}: {type(exc).__name__}: {exc}")
                    continue
                with lock:
                    committed.update(dict.fromkeys(indices, at))
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(slot,), name=f"creator-{slot}") for slot in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    rows = Alert.objects.filter(team_id=team_id, labels__run=run).values_list(
        "labels__n", "incident__uid", "incident__opened_at"
    )
    made = {}
    for n, uid, opened in rows:
        if uid is None or int(n) not in committed:
            errors.append(f"#{n}: no incident")
            continue
        made[str(uid)] = (committed[int(n)], opened.timestamp())
    return made, errors


def pending_work(team_id: int) -> tuple[int, int]:
    """(escalations not stepped yet, notifications still to send) of a team."""
    from paging.models import Escalation, Notification

    unstepped = Escalation.objects.filter(incident__team_id=team_id, state="active", next_level=0).count()
    unsent = Notification.objects.filter(incident__team_id=team_id, status__in=["pending", "sending", "retrying"])
    return unstepped, unsent.count()


def wait_for(receiver: Receiver, path: str, uids: set[str], team_id: int, worker: Worker, timeout: float) -> float:
    """Wait until every uid got a POST on `path`, nothing more can come, or the timeout. Returns
    the time the wait ended."""
    deadline = time.monotonic() + timeout
    last_report = last_check = time.monotonic()
    last_seen, idle_since = -1, time.monotonic()
    while True:
        seen = len(uids & receiver.first_arrivals(path).keys())
        now = time.monotonic()
        if seen == len(uids) or now >= deadline:
            break
        worker.check_alive()
        if seen != last_seen:
            last_seen, idle_since = seen, now
        if now - last_check >= 1.0:
            last_check = now
            unstepped, unsent = pending_work(team_id)
            if unstepped == 0 and unsent == 0 and now - idle_since >= IDLE_STOP_S:
                log(f"  {seen}/{len(uids)} delivered; nothing left to step or send: stopping the wait")
                break
        if now - last_report >= 5.0:
            last_report = now
            unstepped, unsent = pending_work(team_id)
            log(f"  {seen}/{len(uids)} delivered, {unstepped} escalation(s) not stepped, {unsent} to send")
        time.sleep(0.05)
    return time.time()


def baseline_posts(receiver: Receiver, count: int) -> list[float]:
    from paging.transports.base import post_json

    body = {
        "incident": {"id": "baseline", "title": "baseline", "priority": 3, "status": "triggered"},
        "alerts": ["[high] baseline"],
        "acknowledge_url": "http://127.0.0.1/ack",
    }
    url = receiver.url("/baseline")
    post_json(url, body)  # connection set-up of requests, imports
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        post_json(url, body)
        seconds.append(time.perf_counter() - started)
    return seconds


def stages(
    team_id: int, made: dict[str, tuple[float, float]], first: dict[str, float], released: float | None
) -> dict[str, list[float]]:
    """Per-incident stage durations from the escalation and delivery logs (level 1 only):
    start   = Escalation.started_at - commit (the app's on_commit, in the committing thread)
    step    = Notification.created_at - Escalation.started_at, or the release with --hold
              (escalation_step queued + run)
    deliver = arrival - Notification.created_at (deliver_notification queued + run + POST)"""
    from paging.models import Escalation, Notification

    started = {
        str(uid): at.timestamp()
        for uid, at in Escalation.objects.filter(incident__team_id=team_id).values_list("incident__uid", "started_at")
    }
    result: dict[str, list[float]] = {"start": [], "step": [], "deliver": []}
    for uid, at in started.items():
        if uid in made:
            result["start"].append(at - made[uid][0])
    rows = Notification.objects.filter(incident__team_id=team_id, level=0).values_list("incident__uid", "created_at")
    for uid, created in rows:
        uid = str(uid)
        if uid in started:
            result["step"].append(created.timestamp() - max(started[uid], released or 0.0))
        if uid in first:
            result["deliver"].append(first[uid] - created.timestamp())
    return result


def delivery_log(team_id: int) -> dict:
    from paging.models import EscalationLog, Notification

    statuses = Counter(Notification.objects.filter(incident__team_id=team_id).values_list("status", flat=True))
    level2 = EscalationLog.objects.filter(
        escalation__incident__team_id=team_id, action="level_notified", level=1
    ).count()
    errors = Counter(
        Notification.objects.filter(incident__team_id=team_id, status__in=["failed", "retrying"])
        .exclude(error="")
        .values_list("error", flat=True)
    )
    return {"statuses": dict(sorted(statuses.items())), "level2_logged": level2, "errors": dict(errors.most_common(3))}


class PgSampler:
    """CPU of the bench database's PostgreSQL backends, sampled every 100 ms from /proc (children of
    the postmaster). The worker opens a new session per task (short-lived backends), so a snapshot
    at both ends would miss most of them; sampling undercounts only the last <100 ms of each."""

    def __init__(self, dbname: str, postmaster: int) -> None:
        self.marker = f" {dbname} ".encode()
        self.postmaster = postmaster
        self.ours: dict[int, bool] = {}
        self.base: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="pg-sampler", daemon=True)

    def _children(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def _sample(self, first: bool = False) -> None:
        for pid in self._children():
            if pid not in self.ours:
                try:
                    self.ours[pid] = self.marker in Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    self.ours[pid] = False
            if not self.ours[pid]:
                continue
            cpu = cpu_seconds(pid)
            if cpu == 0.0 and pid in self.last:
                continue  # exited between the listing and the read
            if first:
                self.base[pid] = cpu
            self.last[pid] = cpu

    def _loop(self) -> None:
        while not self.stop_event.wait(0.1):
            self._sample()

    def start(self) -> None:
        self._sample(first=True)
        self.thread.start()

    def stop(self) -> tuple[float, int]:
        """(CPU seconds of our backends, backends seen) since start."""
        self._sample()
        self.stop_event.set()
        self.thread.join(timeout=5)
        cpu = sum(last - self.base.get(pid, 0.0) for pid, last in self.last.items())
        return cpu, len(self.last)


class Meter:
    """Where the CPU went during the timed phase (worker process group, the bench database's
    backends, this process, everything else), plus sessions and commits on the bench database
    (pg_stat_database)."""

    def __init__(self, worker: Worker, database_url: str) -> None:
        import psycopg

        self.worker = worker
        self.dbname = urlparse(database_url).path.lstrip("/")
        self.conn = psycopg.connect(psycopg_conninfo(database_url), autocommit=True)
        backend = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        self.pg = PgSampler(self.dbname, postmaster)

    def _stats(self) -> tuple[int, int, float]:
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.conn.execute(
            "SELECT sessions, xact_commit + xact_rollback, active_time FROM pg_stat_database WHERE datname = %s",
            [self.dbname],
        ).fetchone()
        return int(row[0]), int(row[1]), float(row[2])

    def _snapshot(self) -> dict:
        return {
            "t": time.perf_counter(),
            "machine": machine_busy_seconds(),
            "client": sum(os.times()[:2]),
            "worker": process_group_cpu(self.worker.pid) if self.worker.pid else {},
        }

    def start(self) -> None:
        self.stats_before = self._stats()
        self.before = self._snapshot()
        self.pg.start()

    def stop(self) -> None:
        self.after = self._snapshot()
        self.pg_cpu, self.pg_backends = self.pg.stop()

    def close(self) -> None:
        self.pg.stop_event.set()
        if not self.conn.closed:
            self.conn.close()

    def report(self, incidents: int) -> dict:
        """Call a few seconds after stop(): backends report their counters when they end or idle."""
        stats_after = self._stats()
        b, a = self.before, self.after
        wall = a["t"] - b["t"]
        worker_by_pid = {pid: cpu - b["worker"].get(pid, 0.0) for pid, cpu in a["worker"].items()}
        worker = sum(worker_by_pid.values())
        worker_main = worker_by_pid.get(self.worker.pid, 0.0)
        client = a["client"] - b["client"]
        machine = a["machine"] - b["machine"]
        sessions, xacts, active_ms = (x - y for x, y in zip(stats_after, self.stats_before, strict=True))

        def pct(seconds: float) -> int:
            return round(100 * seconds / wall) if wall > 0 else 0

        per = max(1, incidents)
        self.close()

        def per_incident(seconds: float) -> float:
            return round(1000 * seconds / per, 1)

        return {
            "worker_cpu_ms_per_incident": per_incident(worker),
            "worker_main_cpu_ms_per_incident": per_incident(worker_main),
            "postgres_cpu_ms_per_incident": per_incident(self.pg_cpu),
            "client_cpu_ms_per_incident": per_incident(client),
            "worker_cpu_pct": pct(worker),
            "postgres_cpu_pct": pct(self.pg_cpu),
            "client_cpu_pct": pct(client),
            "machine_cpu_pct": pct(machine),
            "other_cpu_pct": max(0, pct(machine - worker - self.pg_cpu - client)),
            "cpus": os.cpu_count(),
            "pg_sessions_per_incident": round(sessions / per, 2),
            "pg_xacts_per_incident": round(xacts / per, 1),
            "pg_active_ms_per_incident": round(active_ms / per, 1),
        }


def warm_up(receiver: Receiver, worker: Worker, count: int) -> None:
    """A few incidents of the warm-up team, waited for: the worker's processes are then up, connected
    and have imported the delivery path."""
    if count <= 0:
        return
    team, integrations = make_team(WARMUP_TEAM, receiver, "/warmup")
    started = time.monotonic()
    made, errors = create_incidents(team.id, integrations, "warmup", count, min(count, 2), 1)
    if errors:
        raise SystemExit(f"warm-up incidents failed: {errors[:3]}")
    wait_for(receiver, "/warmup", set(made), team.id, worker, WARMUP_TIMEOUT_S)
    got = len(set(made) & receiver.first_arrivals("/warmup").keys())
    if got < len(made):
        raise SystemExit(f"warm-up: only {got}/{len(made)} notifications arrived; see {worker.log_path}")
    log(f"warm-up: {count} incident(s) notified in {time.monotonic() - started:.1f}s (worker ready)")


def run(args) -> dict:
    from django.conf import settings
    from django.db import connection

    receiver = Receiver(args.receiver_delay_ms / 1000)
    receiver.start()
    worker = EscWorker(args.database_url, concurrency=args.concurrency, app=args.worker_app)
    meter = None
    try:
        worker.start()
        warm_up(receiver, worker, args.warmup)

        baseline = baseline_posts(receiver, args.baseline_posts)
        log(f"baseline: {len(baseline)} POSTs, p50 {ms(percentile(baseline, 50))} ms")

        team, integrations = make_team(TEAM, receiver, "/notify")
        run_id = uuid.uuid4().hex[:8]
        log(
            f"timed phase: {args.incidents} incidents from {args.creators} threads, worker concurrency "
            f"{args.concurrency}, storm limit {settings.HIVEOPS_STORM_LIMIT_PER_MINUTE}/min"
        )
        meter = Meter(worker, args.database_url)
        meter.start()
        if args.hold:
            worker.consume(False)
            log("  worker paused (cancel_consumer): the tasks wait in Redis until every incident is committed")
        phase_start = time.time()
        made, errors = create_incidents(team.id, integrations, run_id, args.incidents, args.creators, args.batch)
        created_end = time.time()
        log(f"  {len(made)} incidents committed in {created_end - phase_start:.1f}s ({len(errors)} error(s))")
        released = None
        if args.hold:
            worker.consume(True)
            released = time.time()
            log("  worker released (add_consumer)")
        for error in errors[:5]:
            log(f"  error: {error}")
        ended = wait_for(receiver, "/notify", set(made), team.id, worker, args.timeout)
        meter.stop()
        connection.close()  # its counters reach pg_stat_database
        time.sleep(SETTLE_S)  # late duplicates, statistics flushed
        usage = meter.report(len(made))
        arrivals = receiver.snapshot()
        worker.check_alive()
        first = receiver.first_arrivals("/notify")
        per_incident = Counter(incident for _, path, incident in arrivals if path == "/notify")
        latencies, from_opened = [], []
        for uid, (committed, opened) in made.items():
            if uid in first:
                latencies.append(first[uid] - max(committed, released or committed))
                from_opened.append(first[uid] - opened)
        stage = stages(team.id, made, first, released)
        logged = delivery_log(team.id)
        connection.close()
    finally:
        if meter is not None:
            meter.close()
        worker.stop()
        receiver.stop()

    if not args.keep:
        delete_team(TEAM)
        delete_team(WARMUP_TEAM)
    connection.close()

    delivered = len(latencies)
    within = sum(1 for s in latencies if s <= args.goal_s)
    base_p50 = percentile(baseline, 50)
    p95 = percentile(latencies, 95) if latencies else None
    commits = [c for c, _ in made.values()]
    last_arrival = max(first[u] for u in made if u in first) if delivered else ended
    result = {
        "bench": "escalation",
        "incidents": args.incidents,
        "created": len(made),
        "create_errors": len(errors),
        "creators": args.creators,
        "batch": args.batch,
        "hold": args.hold,
        "worker_concurrency": args.concurrency,
        "worker_app": args.worker_app,
        "receiver_delay_ms": args.receiver_delay_ms,
        "storm_limit_per_min": settings.HIVEOPS_STORM_LIMIT_PER_MINUTE,
        "delivered": delivered,
        "delivered_within_goal": within,
        "goal_s": args.goal_s,
        "missing": len(made) - delivered,
        "duplicates": sum(1 for uid in made if per_incident.get(uid, 0) > 1),
        "latency_p50_ms": ms(percentile(latencies, 50)) if latencies else None,
        "latency_p95_ms": ms(p95) if p95 is not None else None,
        "latency_max_ms": ms(max(latencies)) if latencies else None,
        "from_opened_p95_ms": ms(percentile(from_opened, 95)) if from_opened else None,
        **{
            f"stage_{name}_p{pct}_ms": ms(percentile(values, pct)) if values else None
            for name, values in stage.items()
            for pct in (50, 95)
        },
        "create_s": round(max(commits) - min(commits), 2) if commits else None,
        "create_per_s": round(len(commits) / (created_end - phase_start), 1) if commits else None,
        "wall_s": round(last_arrival - phase_start, 2),
        "drain_s": round(last_arrival - released, 2) if released is not None else None,
        "baseline_post_p50_ms": ms(base_p50),
        "ratio_p95_vs_baseline": round(p95 / base_p50, 1) if p95 is not None and base_p50 > 0 else None,
        "notifications": logged["statuses"],
        "level2_posts": sum(1 for _, path, _ in arrivals if path == "/level2"),
        "level2_logged": logged["level2_logged"],
        "delivery_errors": logged["errors"],
        **usage,
        "goal_met": within == args.incidents and len(made) == args.incidents,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON line on stdout (progress on stderr)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="bench database (default %(default)s)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis db of the worker (default %(default)s)")
    parser.add_argument("--incidents", type=int, default=1000, help="incidents in the timed phase (%(default)s)")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (%(default)s)")
    parser.add_argument("--creators", type=int, default=4, help="threads creating incidents (%(default)s)")
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="alerts per transaction: 1 = one webhook_receive each (default); N > 1 = Alertmanager payloads "
        "of N alerts (alertmanager_receive), committed together",
    )
    parser.add_argument(
        "--hold",
        action="store_true",
        help="pause the worker's consumer while the incidents are created and release it after the last "
        "commit: every incident reaches the worker at the same instant, and latency counts from the "
        "release (a true burst, independent of how fast this process can create incidents)",
    )
    parser.add_argument("--warmup", type=int, default=4, help="warm-up incidents, separate team (%(default)s)")
    parser.add_argument("--baseline-posts", type=int, default=200, help="baseline POSTs (%(default)s)")
    parser.add_argument("--timeout", type=float, default=120.0, help="max wait for deliveries, s (%(default)s)")
    parser.add_argument("--goal-s", type=float, default=GOAL_S, help="latency goal per incident, s (%(default)s)")
    parser.add_argument(
        "--storm-limit",
        type=int,
        default=None,
        help="HIVEOPS_STORM_LIMIT_PER_MINUTE for this run (default: the settings' value, 10)",
    )
    parser.add_argument(
        "--receiver-delay-ms",
        type=float,
        default=0.0,
        help="the receiver answers notifications this late (a slow endpoint; arrival is still recorded "
        "on receipt; default %(default)s)",
    )
    parser.add_argument(
        "--worker-app",
        default="hive_ops",
        help="Celery app module of the worker (default %(default)s; another module importing it can "
        "change Celery settings for a what-if run)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench teams and their incidents")
    args = parser.parse_args()
    if not 1 <= args.incidents <= 100_000:
        parser.error("--incidents must be 1..100000")
    if not 1 <= args.batch <= args.incidents:
        parser.error("--batch must be 1..--incidents")
    if not 1 <= args.creators <= 64 or not 1 <= args.concurrency <= 32:
        parser.error("--creators must be 1..64 and --concurrency 1..32")
    if not 0 <= args.receiver_delay_ms <= 10_000:
        parser.error("--receiver-delay-ms must be 0..10000")
    if not 0 < args.timeout <= MAX_TIMEOUT_S:
        parser.error(f"--timeout must be in (0, {MAX_TIMEOUT_S:.0f}]")

    check_isolation(args.database_url, args.redis_url)
    lock = single_run_lock()
    stop_on_signals()
    use_environment(args)
    ensure_database(args.database_url)
    flush_redis(args.redis_url)
    setup_django(args.database_url)
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise SystemExit("CELERY_TASK_ALWAYS_EAGER is on: the worker would not be measured")
    try:
        result = run(args)
    finally:
        lock.close()
    emit(result, args.json)


if __name__ == "__main__":
    main()
