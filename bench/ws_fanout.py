"""Live WebSocket fan-out: 1,000 clients on one daphne process, each receiving bursts of 100
events. Goal: delivery p99 <= 250 ms, every event delivered.

What it does (database hiveops_wsbench, Redis database 7, daphne on 127.0.0.1:8300 — never
`hiveops`, Redis database 0 or port 8000):

1. Creates/migrates the bench database, flushes Redis database 7, and creates team `wsbench`, user
   `wsbench` (a member) and one logged-in session (Django's test client `force_login`): every
   WebSocket presents that session cookie, as a browser tab would.
2. Starts daphne (hive_ops.asgi:application, DEBUG=false) with REDIS_URL on database 7.
3. Baseline: one client process with 1 connection, then the measured phase: `--client-procs`
   processes sharing `--clients` connections (websockets library, no compression). Each
   connection opens `/ws/live/?since=&batch=1` (what static/js/live.js opens) with the cookie and
   waits for the server's `ready` message, so every client has joined its team before the first
   event is sent.
4. This process publishes `--bursts` bursts of `--events` events (`alert.changed`, ~200 bytes),
   one after the other as fast as it can, through `core.live.publish_async`: the team log
   append (Redis Lua script) and a channels-redis `group_send`, as the application's services do.
   Each event carries `t` = time.time() taken just before its publish call; `--pause` seconds
   separate bursts. `--warmup` bursts (default 1) go first and are not counted: the first burst
   after 1,000 connections open also grows socket buffers and Python's heap.
5. Clients record, for every event, receive time - `t` (same machine, same clock): the delivery
   latency, including the publisher's own Redis round trips. A burst's events may arrive in one
   frame (a JSON array) when several are pending for a client.

Output: latency p50/p95/p99/max over all (client, event) pairs, per burst p99, the baseline's,
`ratio_p99` = measured p99 / baseline p99, events delivered/expected, frames received, the
publisher's burst duration, connect time, and CPU (server, client processes, machine, others).
`--no-batch` opens connections without batch=1 (one frame per event, as older pages get them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import select
import subprocess
import sys
import time
from urllib.parse import urlparse

import orjson
from _common import (
    PYTHON,
    CpuMeter,
    bench_parser,
    bench_start,
    check_named_isolation,
    emit,
    log,
    percentile,
    server_running,
    use_redis,
)

DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_wsbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
DEFAULT_PORT = 8300
TEAM = "wsbench"
GOAL_P99_MS = 250
CONNECT_CONCURRENCY = 50


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = bench_parser(__doc__, redis_url=DEFAULT_REDIS_URL, database_url=DEFAULT_DATABASE_URL, port=DEFAULT_PORT)
    parser.add_argument("--clients", type=int, default=1000, help="WebSocket connections (default %(default)s)")
    parser.add_argument("--events", type=int, default=100, help="events per burst (default %(default)s)")
    parser.add_argument("--bursts", type=int, default=3, help="bursts (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed bursts first (default %(default)s)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between bursts (default %(default)s)")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes (default %(default)s)")
    parser.add_argument("--no-batch", action="store_true", help="one frame per event (no batch=1)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for deliveries")
    # Internal: the client processes run this script with --worker.
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--cookie", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def check_ws_isolation(args: argparse.Namespace) -> None:
    check_named_isolation(args.database_url, args.port, args.redis_url, database="hiveops_wsbench", redis_db=7)


# --- client processes --------------------------------------------------------------------------


async def client_worker(args: argparse.Namespace) -> dict:
    """Open the connections, say `ready`, then record every event's delivery latency."""
    from websockets.asyncio.client import connect

    origin = "http://" + urlparse(args.url).netloc
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one():
        async with gate:
            ws = await connect(
                args.url,
                additional_headers={"Cookie": args.cookie, "Origin": origin},
                compression=None,
                max_size=None,
                open_timeout=120,
                ping_interval=None,
            )
            first = orjson.loads(await asyncio.wait_for(ws.recv(), 60))
            if first.get("type") != "ready":
                raise RuntimeError(f"expected ready, got {first}")
            return ws

    started = time.perf_counter()
    connections = await asyncio.gather(*(open_one() for _ in range(args.clients)))
    connect_s = time.perf_counter() - started
    print("ready", flush=True)

    latencies: dict[int, list[int]] = {}
    frames = 0

    async def read(ws) -> int:
        nonlocal frames
        got = 0
        while got < args.expect:
            data = await ws.recv()
            now = time.time()
            frames += 1
            items = orjson.loads(data)
            for event in items if isinstance(items, list) else [items]:
                if "t" in event:
                    got += 1
                    if event["b"] >= 0:  # warm-up bursts are numbered below 0
                        latencies.setdefault(event["b"], []).append(round((now - event["t"]) * 1e6))
        return got

    tasks = [asyncio.ensure_future(read(ws)) for ws in connections]
    _, pending = await asyncio.wait(tasks, timeout=args.timeout)
    for task in pending:
        task.cancel()
    received = sum(len(v) for v in latencies.values())
    await asyncio.gather(*(ws.close() for ws in connections), return_exceptions=True)
    return {"connect_s": connect_s, "frames": frames, "received": received, "latencies_us": latencies}


def run_worker(args: argparse.Namespace) -> None:
    result = asyncio.run(client_worker(args))
    print(json.dumps(result), flush=True)


class ClientProcs:
    """`procs` worker processes sharing `clients` connections."""

    def __init__(self, args: argparse.Namespace, *, clients: int, procs: int, url: str, cookie: str) -> None:
        self.procs = []
        expect = args.events * (args.warmup + args.bursts)
        for i in range(procs):
            share = clients // procs + (1 if i < clients % procs else 0)
            command = [str(PYTHON), __file__, "--worker", "--url", url, "--cookie", cookie]
            command += ["--clients", str(share), "--expect", str(expect), "--timeout", str(args.timeout)]
            self.procs.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            line = proc.stdout.readline().strip() if ready else ""
            if line != "ready":
                self.stop()
                raise SystemExit(f"client process {proc.pid} not ready: {line!r} (exit {proc.poll()})")

    def results(self) -> list[dict]:
        out = []
        for proc in self.procs:
            line = proc.stdout.readline()
            proc.wait(timeout=30)
            if not line:
                raise SystemExit(f"client process {proc.pid} exited with {proc.returncode} and no result")
            out.append(json.loads(line))
        return out

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)


# --- publisher ---------------------------------------------------------------------------------


async def publish_bursts(team_id: int, *, events: int, bursts: int, warmup: int, pause: float) -> list[float]:
    from core.live import publish_async

    durations = []
    for burst in range(-warmup, bursts):
        started = time.perf_counter()
        for i in range(events):
            event = {
                "type": "alert.changed",
                "id": f"bench-{burst}-{i}",
                "status": "firing",
                "severity": "critical",
                "summary": "ws fan-out bench: checkout latency above 250 ms on every host",
                "service": "checkout",
                "incident": None,
                "b": burst,
                "t": time.time(),
            }
            await publish_async(team_id, event)
        if burst >= 0:
            durations.append(time.perf_counter() - started)
        if burst < bursts - 1:
            await asyncio.sleep(pause)
    return durations


def run_phase(args: argparse.Namespace, *, team_id: int, clients: int, procs: int, url: str, cookie: str, meter=None):
    workers = ClientProcs(args, clients=clients, procs=procs, url=url, cookie=cookie)
    try:
        workers.wait_ready()
        log(f"{clients} clients ready; publishing {args.bursts} x {args.events} events")
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with meter or contextlib.nullcontext():
            durations = asyncio.run(
                publish_bursts(team_id, events=args.events, bursts=args.bursts, warmup=args.warmup, pause=args.pause)
            )
            results = workers.results()
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        workers.stop()
    per_burst: dict[int, list[float]] = {}
    for result in results:
        for burst, values in result["latencies_us"].items():
            per_burst.setdefault(int(burst), []).extend(v / 1000 for v in values)
    every = [v for values in per_burst.values() for v in values]
    client_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    return {
        "clients": clients,
        "expected": clients * args.events * args.bursts,
        "delivered": len(every),
        "frames": sum(r["frames"] for r in results),
        "p50_ms": round(percentile(every, 50), 1),
        "p95_ms": round(percentile(every, 95), 1),
        "p99_ms": round(percentile(every, 99), 1),
        "max_ms": round(max(every, default=float("nan")), 1),
        "p99_ms_per_burst": [round(percentile(per_burst.get(b, []), 99), 1) for b in range(args.bursts)],
        "burst_publish_ms": [round(d * 1000, 1) for d in durations],
        "connect_s": round(max(r["connect_s"] for r in results), 2),
        "client_procs_cpu_s": round(client_cpu, 2),
    }


# --- set-up ------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> tuple[int, str]:
    """Flush the bench Redis database; the team, its member and a logged-in session cookie."""
    import redis
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from core.teams.services import membership_ensure, team_get_or_create

    redis.Redis.from_url(args.redis_url).flushdb()
    team = team_get_or_create(slug=TEAM, name="WebSocket bench")[0]
    user = get_user_model().objects.get_or_create(username=TEAM)[0]
    membership_ensure(team=team, user=user)
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return team.id, f"{name}={client.cookies[name].value}"


def main() -> None:
    args = parse_args()
    if args.worker:
        run_worker(args)
        return
    check_ws_isolation(args)
    use_redis(args.redis_url)
    dbname = bench_start(args.database_url, debug=args.debug).dbname
    team_id, cookie = prepare(args)
    query = "since=" + ("" if args.no_batch else "&batch=1")
    url = f"ws://127.0.0.1:{args.port}/ws/live/?{query}"

    with server_running(args.database_url, args.port, debug=args.debug) as server:
        log("baseline: 1 client")
        baseline = run_phase(args, team_id=team_id, clients=1, procs=1, url=url, cookie=cookie)
        log(f"measured: {args.clients} clients in {args.client_procs} processes")
        meter = CpuMeter(server_pid=server.pid, dbname=dbname)
        measured = run_phase(
            args, team_id=team_id, clients=args.clients, procs=args.client_procs, url=url, cookie=cookie, meter=meter
        )

    result = {
        "goal_p99_ms": GOAL_P99_MS,
        "goal_met": measured["p99_ms"] <= GOAL_P99_MS and measured["delivered"] == measured["expected"],
        "batch": not args.no_batch,
        "events_per_burst": args.events,
        "bursts": args.bursts,
        **measured,
        "baseline_p50_ms": baseline["p50_ms"],
        "baseline_p99_ms": baseline["p99_ms"],
        "baseline_frames": baseline["frames"],
        "ratio_p99": round(measured["p99_ms"] / baseline["p99_ms"], 1) if baseline["p99_ms"] else None,
        **meter.report(),
    }
    emit(result, args.json)


if __name__ == "__main__":
    sys.exit(main())
