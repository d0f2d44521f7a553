"""Ingest throughput over HTTP, against a raw COPY of the same rows measured in the same run.

What it does (all against the bench database, never `hiveops`):

1. Builds every request body before timing: `--series` series (default 1,000) of `--samples`
   samples in total (default 2,000,000), one point a minute ending a minute ago (so they land in
   the existing daily partitions of the last ~2 days), cut into batches of `--batch` points
   (default 10,000 = 1,000 series x 10 points, time-major like scrapes arrive).
2. Baseline: one psycopg 3 connection COPYs (binary) exactly the same rows, batch by batch in the
   same order and with the same sort the app uses, into `bench_copy_sample`: a fresh table with
   the same columns, primary key and daily range partitioning (plus a default partition) as
   `metrics_sample`. This is the ceiling for getting these rows into PostgreSQL on this machine.
   It runs before and after the HTTP phase and the mean is used, so a drift in the machine's
   load during the run biases the ratio less (both runs are printed).
3. Starts daphne on 127.0.0.1:8100 (or reuses one with --reuse-server), creates a token with
   `manage.py create_api_token`, warms the server's DB connections up, then `--clients` threads,
   each with one keep-alive http.client connection, POST the bodies to /api/v1/ingest.
   samples_per_s = accepted samples / wall-clock seconds from first send to last response.
4. ratio = samples_per_s / copy_samples_per_s. Targets: ratio >= 0.6 and >= 150,000 samples/s.
   The server is core/webserver.py with --web-processes daphne processes (as the Procfile
   runs it), and a Celery worker runs during the load (unless --no-worker), so detection on
   ingest happens as in production. Its backlog is read from the server's /metrics every 0.5 s
   (hiveops_detection_backlog_seconds/_series): detection_backlog_max_s says how far behind
   detection fell during the load, detection_drain_s how long it took to catch up after it.
5. Deletes the run's series, samples and dirty-hour rows (unless --keep) and drops the COPY table,
   so reruns measure the same thing and the bench database does not grow.

Each run uses new series (a `run` label), so every sample is a real insert, never a duplicate.
The HTTP phase stops taking new batches after --max-seconds (the JSON then says complete=false).
`other_cpu_pct` is the CPU used on the machine by anything but this benchmark during the HTTP
phase (percent of one core): when it is high, someone else's work is depressing the numbers.
"""

from __future__ import annotations

import http.client
import os
import queue
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import psycopg
from _alerting import Worker
from _common import (
    HOST,
    CpuMeter,
    bench_parser,
    bench_start,
    check_isolation,
    create_token,
    emit,
    http_get,
    log,
    percentile,
    server_running,
    tree_cpu_seconds,
)
from psycopg import sql
from tqdm import tqdm

METRIC = "bench_ingest"
TEAM = "bench-ingest"
TARGET_RATIO = 0.6
TARGET_SAMPLES_PER_S = 150_000
PG_EPOCH_OFFSET_US = 946_684_800_000_000
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
COPY_ROW = np.dtype(
    [("n", ">i2"), ("l1", ">i4"), ("sid", ">i8"), ("l2", ">i4"), ("ts", ">i8"), ("l3", ">i4"), ("v", ">f8")]
)
MAX_SPAN_S = 46 * 3600  # keep all points within the last two days (existing partitions)


class Plan:
    """The data set: series x points, cut into batches; bodies are built once, before any timing."""

    def __init__(self, *, samples: int, series: int, batch: int, run: str, series_per_batch: int | None = None) -> None:
        self.series = max(1, min(series, samples))
        self.points = max(1, samples // self.series)
        self.series_per_batch = max(1, min(self.series, batch, series_per_batch or self.series))
        self.points_per_batch = max(1, batch // self.series_per_batch)
        self.step_s = min(60, max(1, MAX_SPAN_S // self.points))
        end = int(time.time()) // 60 * 60 - 60
        self.ts_s = end - self.step_s * np.arange(self.points - 1, -1, -1, dtype=np.int64)
        rng = np.random.default_rng(42)
        self.values = np.round(rng.uniform(0, 1000, size=(self.series, self.points)), 3)
        self.run = run
        # (series slice, point slice) of each batch, time-major.
        self.batches = [
            (s0, min(s0 + self.series_per_batch, self.series), t0, min(t0 + self.points_per_batch, self.points))
            for t0 in range(0, self.points, self.points_per_batch)
            for s0 in range(0, self.series, self.series_per_batch)
        ]

    @property
    def total(self) -> int:
        return self.series * self.points

    def labels(self, i: int) -> dict[str, str]:
        return {"run": self.run, "host": f"host-{i:05d}", "job": "bench"}

    def body(self, s0: int, s1: int, t0: int, t1: int) -> bytes:
        ts = self.ts_s[t0:t1].astype(np.float64)
        doc = {
            "series": [
                {
                    "metric": METRIC,
                    "labels": self.labels(i),
                    "unit": "ms",
                    "points": np.column_stack((ts, self.values[i, t0:t1])),
                }
                for i in range(s0, s1)
            ]
        }
        return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)

    def copy_payload(self, series_ids: np.ndarray) -> bytes:
        """All rows as one binary COPY stream, batch by batch, each batch sorted like the app sorts it."""
        parts = [COPY_HEADER]
        for s0, s1, t0, t1 in self.batches:
            n_s, n_t = s1 - s0, t1 - t0
            rows = np.empty(n_s * n_t, dtype=COPY_ROW)
            rows["n"] = 3
            rows["l1"] = rows["l2"] = rows["l3"] = 8
            rows["sid"] = np.repeat(series_ids[s0:s1], n_t)  # series ids ascend with i: already key order
            rows["ts"] = np.tile(self.ts_s[t0:t1] * 1_000_000 - PG_EPOCH_OFFSET_US, n_s)
            rows["v"] = self.values[s0:s1, t0:t1].reshape(-1)
            parts.append(rows.tobytes())
        parts.append(COPY_TRAILER)
        return b"".join(parts)


def day_start(ts_s: int) -> datetime:
    return datetime.fromtimestamp(ts_s, UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def copy_baseline(conninfo: str, dbname: str, plan: Plan, label: str) -> dict:
    """Time one binary COPY of the plan's rows into a fresh partitioned twin of metrics_sample."""
    series_ids = np.arange(1, plan.series + 1, dtype=np.int64) * 7  # ascending like real ids
    payload = plan.copy_payload(series_ids)
    first, last = day_start(int(plan.ts_s[0])), day_start(int(plan.ts_s[-1]))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_sample")
        conn.execute(
            "CREATE TABLE bench_copy_sample (series_id bigint NOT NULL, ts timestamptz NOT NULL, "
            "value double precision NOT NULL, PRIMARY KEY (series_id, ts)) PARTITION BY RANGE (ts)"
        )
        conn.execute("CREATE TABLE bench_copy_sample_default PARTITION OF bench_copy_sample DEFAULT")
        day = first
        while day <= last:
            conn.execute(
                sql.SQL("CREATE TABLE {} PARTITION OF bench_copy_sample FOR VALUES FROM ({}) TO ({})").format(
                    sql.Identifier(f"bench_copy_sample_p{day:%Y%m%d}"),
                    sql.Literal(day),
                    sql.Literal(day + timedelta(days=1)),
                )
            )
            day += timedelta(days=1)
        chunk = 1 << 20
        view = memoryview(payload)
        try:
            bar = tqdm(total=len(payload), unit="B", unit_scale=True, desc=f"raw COPY ({label})", file=sys.stderr)
            with bar, CpuMeter(server_pid=None, dbname=dbname) as meter:
                started = time.perf_counter()
                statement = "COPY bench_copy_sample (series_id, ts, value) FROM STDIN (FORMAT binary)"
                with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as cp:
                    for offset in range(0, len(payload), chunk):
                        cp.write(view[offset : offset + chunk])
                        bar.update(min(chunk, len(payload) - offset))
                elapsed = time.perf_counter() - started
            rows = conn.execute("SELECT count(*) FROM bench_copy_sample").fetchone()[0]
        finally:
            conn.execute("DROP TABLE IF EXISTS bench_copy_sample")
    if rows != plan.total:
        raise SystemExit(f"raw COPY stored {rows} rows, expected {plan.total}")
    rate = plan.total / elapsed
    log(f"raw COPY ({label}): {rate:,.0f} samples/s ({elapsed:.2f}s), other CPU {meter.report()['other_cpu_pct']}%")
    return {"copy_s": elapsed, "copy_samples_per_s": rate, "other_cpu_pct": meter.report()["other_cpu_pct"]}


class Sender:
    """`clients` threads, one keep-alive connection each, pulling batch bodies from a queue."""

    def __init__(self, *, port: int, token: str, bodies: list[tuple[bytes, int]], clients: int) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.bodies = bodies
        self.clients = clients
        self.work: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.accepted = 0
        self.duplicates = 0
        self.errors: list[str] = []
        self.latencies: list[float] = []
        self.sent = 0

    def post(self, conn: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
        conn.request("POST", "/api/v1/ingest", body=body, headers=self.headers)
        response = conn.getresponse()
        return response.status, response.read()

    def worker(self, deadline: float, bar: tqdm) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
        try:
            while time.perf_counter() < deadline:
                try:
                    index = self.work.get_nowait()
                except queue.Empty:
                    return
                body, points = self.bodies[index]
                started = time.perf_counter()
                try:
                    status, raw = self.post(conn, body)
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
                    with self.lock:
                        self.errors.append(f"batch {index}: {exc!r}")
                    continue
                latency = time.perf_counter() - started
                with self.lock:
                    self.sent += 1
                    self.latencies.append(latency)
                    if status == 200:
                        result = orjson.loads(raw)
                        self.accepted += result["accepted"]
                        self.duplicates += result["duplicates"]
                    else:
                        self.errors.append(f"batch {index}: HTTP {status} {raw[:200]!r}")
                bar.update(points)
        finally:
            conn.close()

    def run(self, max_seconds: float, *, progress: bool = True) -> float:
        for index in range(len(self.bodies)):
            self.work.put(index)
        total = sum(points for _, points in self.bodies)
        bar = tqdm(
            total=total, unit="samples", unit_scale=True, desc="HTTP ingest", file=sys.stderr, disable=not progress
        )
        with bar:
            started = time.perf_counter()
            deadline = started + max_seconds
            threads = [
                threading.Thread(target=self.worker, args=(deadline, bar), daemon=True) for _ in range(self.clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return time.perf_counter() - started


def warm_up(port: int, token: str, clients: int, run: str) -> None:
    """Open the server's DB connections (one per executor thread) and caches with tiny batches."""
    now = int(time.time()) - 120
    doc = {"series": [{"metric": "bench_warmup", "labels": {"run": run}, "points": [[now, 1.0]]}]}
    sender = Sender(port=port, token=token, bodies=[(orjson.dumps(doc), 1)] * (clients * 4), clients=clients)
    sender.run(60, progress=False)
    if sender.errors:
        raise SystemExit(f"warm-up failed: {sender.errors[0]}")


BACKLOG_GAUGES = ("hiveops_detection_backlog_seconds", "hiveops_detection_backlog_series")


def scrape_backlog(port: int) -> tuple[float, float] | None:
    """(age of the oldest samples waiting for detection, series waiting) from the server's /metrics."""
    try:
        status, body = http_get(port, "/metrics", timeout=5)
    except OSError:
        return None
    if status != 200:
        return None
    found = {}
    for line in body.decode().splitlines():
        name, _, value = line.partition(" ")
        if name in BACKLOG_GAUGES:
            found[name] = float(value)
    return (found.get(BACKLOG_GAUGES[0], 0.0), found.get(BACKLOG_GAUGES[1], 0.0)) if found else None


class BacklogWatch:
    """Samples the detection backlog in /metrics while the load runs, then times its drain."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        while not self.stop.wait(0.5):
            found = scrape_backlog(self.port)
            if found is not None:
                self.samples.append(found)

    def __enter__(self) -> BacklogWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def drain(self, limit_s: float = 120) -> float | None:
        """Seconds from the end of the load until nothing waits for detection (None: not within limit_s)."""
        started = time.perf_counter()
        while time.perf_counter() - started < limit_s:
            found = scrape_backlog(self.port)
            if found is not None and found == (0.0, 0.0):
                return time.perf_counter() - started
            time.sleep(0.25)
        return None

    def report(self) -> dict:
        ages = [age for age, _ in self.samples]
        return {
            "detection_backlog_max_s": round(max(ages), 2) if ages else None,
            "detection_backlog_p95_s": round(percentile(ages, 95), 2) if ages else None,
            "detection_backlog_max_series": int(max((n for _, n in self.samples), default=0)),
            "detection_backlog_scrapes": len(self.samples),
        }


def cleanup(conninfo: str, run: str, plan: Plan) -> None:
    """Delete the run's rows, then vacuum the touched partitions so the next run starts from the same state."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM metrics_series WHERE metric IN (%s, %s) AND labels->>'run' = %s",
                [METRIC, "bench_warmup", run],
            )
        ]
        if not ids:
            return
        started = time.perf_counter()
        with conn.transaction():
            # Rows the worker made for these series (detectors, anomalies...): every table that
            # references metrics_series, found in the catalog, so new ones are covered too.
            referencing = conn.execute(
                "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
                "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                "WHERE c.contype = 'f' AND c.confrelid = 'metrics_series'::regclass"
            ).fetchall()
            for table, column in referencing:
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(sql.Identifier(table), sql.Identifier(column)),
                    [ids],
                )
            conn.execute("DELETE FROM metrics_sample WHERE series_id = ANY(%s)", [ids])
            conn.execute("DELETE FROM metrics_rollup_dirty WHERE series_id = ANY(%s)", [ids])
            conn.execute("DELETE FROM metrics_series WHERE id = ANY(%s)", [ids])
        day, last = day_start(int(plan.ts_s[0])), day_start(int(time.time()))
        tables = ["metrics_sample_default", "metrics_rollup_dirty", "metrics_series"]
        while day <= last:
            tables.append(f"metrics_sample_p{day:%Y%m%d}")
            day += timedelta(days=1)
        for table in tables:
            if conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is not None:
                conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
        log(f"cleanup: deleted {len(ids)} series and their samples in {time.perf_counter() - started:.1f}s")


def main() -> None:
    parser = bench_parser(__doc__, web=True)
    parser.add_argument("--samples", type=int, default=2_000_000, help="samples to send (default %(default)s)")
    parser.add_argument("--series", type=int, default=1_000, help="distinct series (default %(default)s)")
    parser.add_argument("--batch", type=int, default=10_000, help="points per request (default %(default)s)")
    parser.add_argument(
        "--series-per-batch",
        type=int,
        default=None,
        help="series in each request (default: all --series, i.e. --batch/--series points per series); "
        "fewer series with more points each is cheaper to parse",
    )
    parser.add_argument("--clients", type=int, default=4, help="parallel HTTP clients (default %(default)s)")
    parser.add_argument("--max-seconds", type=float, default=600, help="time limit of the HTTP phase")
    parser.add_argument("--reuse-server", action="store_true", help="use a server already answering on --port")
    parser.add_argument("--skip-copy", action="store_true", help="skip the raw COPY baseline (no ratio)")
    parser.add_argument("--keep", action="store_true", help="keep the ingested series and samples")
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="do not run a Celery worker (by default one runs, so detection on ingest happens during the load)",
    )
    args = parser.parse_args()
    check_isolation(args.database_url, args.port)
    start = bench_start(args.database_url, django=False)
    conninfo, dbname, run = start.conninfo, start.dbname, start.run
    plan = Plan(
        samples=args.samples, series=args.series, batch=args.batch, run=run, series_per_batch=args.series_per_batch
    )
    t0 = time.perf_counter()
    bodies = [(plan.body(*b), (b[1] - b[0]) * (b[3] - b[2])) for b in tqdm(plan.batches, desc="build", file=sys.stderr)]
    body_bytes = sum(len(body) for body, _ in bodies)
    log(
        f"{plan.total:,} samples = {plan.series} series x {plan.points} points every {plan.step_s}s, "
        f"{len(bodies)} requests of ~{plan.series_per_batch * plan.points_per_batch} points "
        f"({body_bytes / len(bodies) / 1024:.0f} KiB each), built in {time.perf_counter() - t0:.1f}s"
    )

    # The baseline runs before and after the HTTP phase; their mean absorbs slow drifts of the
    # machine (other work, checkpoints) that would otherwise bias the ratio.
    copies = [] if args.skip_copy else [copy_baseline(conninfo, dbname, plan, "before")]
    # /metrics of the bench server answers 127.0.0.1 (the detection backlog gauges are read there).
    os.environ.setdefault("HIVEOPS_METRICS_ALLOW", "127.0.0.1/32")
    worker = None if args.no_worker else Worker(args.database_url, debug=args.debug, tag="ingestbench")
    drain_s = None
    try:
        with server_running(
            args.database_url, args.port, debug=args.debug, reuse=args.reuse_server, processes=args.web_processes
        ) as server:
            if worker is not None:
                worker.start()
            token = create_token(args.database_url, team=TEAM, name=f"bench ingest {run}", scopes="ingest,read")
            warm_up(args.port, token, args.clients, run)
            sender = Sender(port=args.port, token=token, bodies=bodies, clients=args.clients)
            worker_cpu = tree_cpu_seconds(worker.pid) if worker else 0.0
            with BacklogWatch(args.port) as watch, CpuMeter(server_pid=server.pid, dbname=dbname) as meter:
                wall = sender.run(args.max_seconds)
            worker_cpu = (tree_cpu_seconds(worker.pid) - worker_cpu) if worker else None
            if worker is not None:
                worker.check_alive()
                drain_s = watch.drain()
    finally:
        if worker is not None:
            worker.stop()
        if not args.keep:
            cleanup(conninfo, run, plan)
    if copies:
        copies.append(copy_baseline(conninfo, dbname, plan, "after"))

    samples_per_s = sender.accepted / wall
    copy_rate = sum(c["copy_samples_per_s"] for c in copies) / len(copies) if copies else None
    ratio = samples_per_s / copy_rate if copy_rate else None
    result = {
        "samples_per_s": round(samples_per_s),
        "copy_samples_per_s": round(copy_rate) if copy_rate else None,
        "ratio": round(ratio, 3) if ratio else None,
        "samples": sender.accepted,
        "clients": args.clients,
        "batch_points": plan.series_per_batch * plan.points_per_batch,
        "series": plan.series,
        "series_per_batch": plan.series_per_batch,
        "requests": sender.sent,
        "wall_s": round(wall, 2),
        "copy_runs_samples_per_s": [round(c["copy_samples_per_s"]) for c in copies],
        "request_ms_p50": round(percentile(sender.latencies, 50) * 1000, 1),
        "request_ms_p95": round(percentile(sender.latencies, 95) * 1000, 1),
        "duplicates": sender.duplicates,
        "errors": len(sender.errors),
        "complete": sender.accepted == plan.total and not sender.errors,
        **meter.report(),
        "worker": worker is not None,
        "worker_cpu_pct": round(100 * worker_cpu / wall) if worker_cpu is not None else None,
        **watch.report(),
        "detection_drain_s": round(drain_s, 2) if drain_s is not None else None,
        "copy_other_cpu_pct": [c["other_cpu_pct"] for c in copies],
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "debug": args.debug,
        "targets": {"ratio": TARGET_RATIO, "samples_per_s": TARGET_SAMPLES_PER_S},
        "meets_targets": bool(ratio and ratio >= TARGET_RATIO and samples_per_s >= TARGET_SAMPLES_PER_S),
        "total_s": round(time.perf_counter() - start.started, 1),
    }
    for error in sender.errors[:5]:
        log(f"error: {error}")
    emit(result, args.json)


if __name__ == "__main__":
    main()
