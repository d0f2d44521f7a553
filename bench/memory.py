"""Resident memory of the web process while ingesting 100,000 distinct series.

Goal: ingesting 100,000 distinct series keeps the web process under 400 MB resident memory.

Starts its own daphne on 127.0.0.1:8100 against the bench database (a server that was already
running would carry someone else's history, so --port must be free), records its resident set
size (VmRSS from /proc/<pid>/status, plus any child processes) every --interval seconds, then:

1. start: RSS of the idle server right after it answers (the baseline of this run), and after one
   tiny warm-up request per client (imports, DB connections, executor threads);
2. pass 1: --requests requests of --series / --requests new series each (default 200 x 500),
   1 to 5 points per series, 5 labels per series, sent by --clients parallel keep-alive clients;
3. pass 2 (with --passes 2, the default): the same series again with new timestamps. They are in
   the server's series cache by then, so growth here means per-request memory is not returned;
4. settle: a few seconds idle, then the final RSS.

Prints rss_mb_start / rss_mb_peak / rss_mb_end, the growth over the baseline, and peak/limit.
The run's series, samples and dirty-hour rows are deleted afterwards unless --keep.
"""

from __future__ import annotations

import http.client
import os
import random
import sys
import threading
import time
from pathlib import Path

import orjson
import psycopg
from _common import (
    HOST,
    CpuMeter,
    bench_parser,
    bench_start,
    check_isolation,
    create_token,
    emit,
    log,
    server_running,
)
from tqdm import tqdm

METRIC = "bench_memory"
TEAM = "bench-memory"
LIMIT_MB = 400


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return pids


def rss_mb(pid: int) -> float:
    """VmRSS of the process and its descendants, in MiB."""
    total_kb = 0
    for each in process_tree(pid):
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kb / 1024


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self.phase_peaks: dict[str, float] = {}
        self.phase = "start"
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def sample(self) -> float:
        value = rss_mb(self.pid)
        with self.lock:
            self.samples.append((time.monotonic(), value))
            self.phase_peaks[self.phase] = max(self.phase_peaks.get(self.phase, 0.0), value)
        return value

    def set_phase(self, phase: str) -> float:
        value = self.sample()
        with self.lock:
            self.phase = phase
        return value

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sample()

    @property
    def peak(self) -> float:
        return max(value for _, value in self.samples)


def build_bodies(*, run: str, series: int, requests: int, seed: int, ts: int) -> list[tuple[bytes, int, int]]:
    """(body, series, points) per request: `series` distinct series spread over `requests` bodies."""
    rng = random.Random(seed)
    per_request = -(-series // requests)
    bodies = []
    for r in range(requests):
        items = []
        for i in range(r * per_request, min(series, (r + 1) * per_request)):
            n = rng.randint(1, 5)
            items.append(
                {
                    "metric": METRIC,
                    "labels": {
                        "run": run,
                        "instance": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}:9100",
                        "job": "node",
                        "region": ("eu-west-1", "us-east-1", "ap-south-1")[i % 3],
                        "pod": f"api-{i:06d}-{rng.getrandbits(24):06x}",
                    },
                    "unit": "bytes",
                    "points": [[ts - 60 * k, round(rng.random() * 1e6, 3)] for k in range(n)],
                }
            )
        if items:
            bodies.append((orjson.dumps({"series": items}), len(items), sum(len(x["points"]) for x in items)))
    return bodies


def send_all(port: int, token: str, bodies: list[tuple[bytes, int, int]], clients: int, desc: str) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    lock = threading.Lock()
    todo = list(range(len(bodies)))
    totals = {"accepted": 0, "series": 0, "errors": 0}
    errors: list[str] = []

    def worker(bar: tqdm) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        try:
            while True:
                with lock:
                    if not todo:
                        return
                    index = todo.pop(0)
                body, n_series, _ = bodies[index]
                conn.request("POST", "/api/v1/ingest", body=body, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                with lock:
                    if response.status == 200:
                        result = orjson.loads(raw)
                        totals["accepted"] += result["accepted"]
                        totals["series"] += result["series"]
                    else:
                        totals["errors"] += 1
                        errors.append(f"HTTP {response.status}: {raw[:200]!r}")
                    bar.update(n_series)
        finally:
            conn.close()

    with tqdm(total=sum(b[1] for b in bodies), unit="series", desc=desc, file=sys.stderr) as bar:
        threads = [threading.Thread(target=worker, args=(bar,)) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for error in errors[:5]:
        log(f"error: {error}")
    return totals


def cleanup(conninfo: str, run: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM metrics_series WHERE metric IN (%s, 'bench_memory_warmup') AND labels->>'run' = %s",
                [METRIC, run],
            )
        ]
        if ids:
            with conn.transaction():
                conn.execute("DELETE FROM metrics_sample WHERE series_id = ANY(%s)", [ids])
                conn.execute("DELETE FROM metrics_rollup_dirty WHERE series_id = ANY(%s)", [ids])
                conn.execute("DELETE FROM metrics_series WHERE id = ANY(%s)", [ids])
            conn.execute("VACUUM (ANALYZE) metrics_series")
        log(f"cleanup: deleted {len(ids)} series and their samples")


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--series", type=int, default=100_000, help="distinct series (default %(default)s)")
    parser.add_argument("--requests", type=int, default=200, help="requests per pass (default %(default)s)")
    parser.add_argument("--clients", type=int, default=4, help="parallel HTTP clients (default %(default)s)")
    parser.add_argument("--passes", type=int, default=2, choices=(1, 2), help="2 = send the same series twice")
    parser.add_argument("--interval", type=float, default=0.05, help="RSS sampling interval in seconds")
    parser.add_argument("--settle", type=float, default=5.0, help="idle seconds before the final RSS")
    parser.add_argument("--limit-mb", type=float, default=LIMIT_MB)
    parser.add_argument("--keep", action="store_true", help="keep the series and samples")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    check_isolation(args.database_url, args.port)
    start = bench_start(args.database_url, django=False)
    conninfo, dbname, run = start.conninfo, start.dbname, start.run
    now = int(time.time()) // 60 * 60 - 600
    passes = [build_bodies(run=run, series=args.series, requests=args.requests, seed=args.seed, ts=now)]
    if args.passes == 2:
        passes.append(build_bodies(run=run, series=args.series, requests=args.requests, seed=args.seed, ts=now + 300))
    log(
        f"{len(passes)} pass(es) of {len(passes[0])} requests, {args.series:,} series, "
        f"{sum(b[2] for b in passes[0]):,} points, {sum(len(b[0]) for b in passes[0]) / len(passes[0]) / 1024:.0f} KiB "
        "per request"
    )
    totals = []
    try:
        with server_running(args.database_url, args.port, debug=args.debug) as server:
            sampler = RssSampler(server.pid, args.interval)
            rss_start = sampler.sample()
            sampler.start()
            token = create_token(args.database_url, team=TEAM, name=f"bench memory {run}", scopes="ingest")
            warm = orjson.dumps(
                {"series": [{"metric": "bench_memory_warmup", "labels": {"run": run}, "points": [[now, 1.0]]}]}
            )
            send_all(args.port, token, [(warm, 1, 1)] * args.clients, args.clients, "warm-up")
            rss_warm = sampler.set_phase("pass1")
            with CpuMeter(server_pid=server.pid, dbname=dbname) as meter:
                started = time.perf_counter()
                totals.append(send_all(args.port, token, passes[0], args.clients, "pass 1 (new series)"))
                pass_s = [time.perf_counter() - started]
                rss_after = [sampler.set_phase("pass2")]
                if len(passes) == 2:
                    started = time.perf_counter()
                    totals.append(send_all(args.port, token, passes[1], args.clients, "pass 2 (same series)"))
                    pass_s.append(time.perf_counter() - started)
                    rss_after.append(sampler.set_phase("settle"))
            time.sleep(args.settle)
            rss_end = sampler.set_phase("done")
            sampler.stopped.set()
            sampler.join()
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            stored = conn.execute(
                "SELECT count(*) FROM metrics_series WHERE metric = %s AND labels->>'run' = %s", [METRIC, run]
            ).fetchone()[0]
        if not args.keep:
            cleanup(conninfo, run)

    peak = sampler.peak
    result = {
        "series": stored,
        "rss_mb_peak": round(peak, 1),
        "rss_mb_start": round(rss_start, 1),
        "limit_mb": args.limit_mb,
        "rss_mb_warm": round(rss_warm, 1),
        "rss_mb_after_pass1": round(rss_after[0], 1),
        "rss_mb_after_pass2": round(rss_after[1], 1) if len(rss_after) > 1 else None,
        "rss_mb_end": round(rss_end, 1),
        "rss_mb_peak_pass1": round(sampler.phase_peaks.get("pass1", 0.0), 1),
        "rss_mb_peak_pass2": round(sampler.phase_peaks.get("pass2", 0.0), 1) if len(passes) == 2 else None,
        "growth_mb": round(peak - rss_start, 1),
        "peak_vs_start": round(peak / rss_start, 2),
        "peak_vs_limit": round(peak / args.limit_mb, 3),
        "meets_target": peak < args.limit_mb and stored == args.series,
        "accepted_samples": sum(t["accepted"] for t in totals),
        "errors": sum(t["errors"] for t in totals),
        "requests": sum(len(p) for p in passes),
        "clients": args.clients,
        "pass_s": [round(s, 1) for s in pass_s],
        "rss_samples": len(sampler.samples),
        **meter.report(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "debug": args.debug,
        "total_s": round(time.perf_counter() - start.started, 1),
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
