"""Query latency of /api/v1/query_range over a month of 1-minute data.

Goal: with 1,000 series x 30 days of 1-minute samples stored (43.2 million rows), a 30-day query
at a 1-hour step answers in <= 50 ms p95, and a 1-hour raw query (step 60 s) in <= 20 ms p95.

Data (kept between runs, so reruns are quick):

- `--series` series (metric `bench_query`, labels host=host-NNNNN and set=s<series>, team
  `bench-query`) get one sample a minute over the last `--days` days, generated in the database
  with generate_series (daily partitions created first with storage.layout_prepare(days_back=
  days + 1), so nothing lands in the default partition). The dirty hours are recorded in
  metrics_rollup_dirty in the same transactions, then the rollups are filled by the real
  metrics.services.rollups_refresh (`--workers` threads, each with its own connection, like
  several Celery workers sharing the work with SKIP LOCKED). What has been loaded is recorded in
  `bench_query_state`; a rerun only tops the data up to now (and drains any pending dirty hours).
  `--reload` deletes the set and loads it again.

Timing (single client, one keep-alive connection to daphne on 127.0.0.1:8100, read-only token):

- range: `query_range?series=<uid>&start=<now - days>&end=<now>&step=1h&agg=avg` (1h rollups);
- raw:   `query_range?series=<uid>&start=<now - 1h>&end=<now>&step=60&agg=avg` (raw samples);
- baseline: `query_range?series=<uid>&start=T&end=T&step=60` for a minute T that holds a sample:
  the same URL, authentication, permission, series lookup, serializer and renderer, with the
  smallest possible data access (one bucket, one primary-key probe into one partition). It is
  what any request costs over this HTTP path, so range/baseline and raw/baseline say how much the
  data work adds, independently of how fast this machine is on the day.

The three kinds are interleaved in a shuffled order over random series (`--requests` of each,
after `--warmup` of each that are not counted). The same queries are then timed in-process by
calling metrics.selectors.query_range directly (no HTTP, no auth, no series lookup, no JSON),
which separates the storage cost from the web stack's. `db_sessions_per_request` counts new
PostgreSQL sessions opened on the bench database per HTTP request (pg_stat_database.sessions).
"""

from __future__ import annotations

import http.client
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

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
    percentile,
    server_running,
)
from psycopg import sql
from tqdm import tqdm

TEAM = "bench-query"
METRIC = "bench_query"
TARGET_RANGE_P95_MS = 50
TARGET_RAW_P95_MS = 20

STATE_DDL = """
CREATE TABLE IF NOT EXISTS bench_query_state (
    set_name text PRIMARY KEY,
    loaded_from timestamptz NOT NULL,
    loaded_to timestamptz NOT NULL
)
"""
LOAD_SQL = """
INSERT INTO {table} (series_id, ts, value)
SELECT s.id, t.ts, round((100 + 60 * sin(extract(epoch FROM t.ts) / 3600.0 + s.id) + 10 * random())::numeric, 3)
FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS s(id, ord)
CROSS JOIN LATERAL generate_series(
    %(start)s::timestamptz + 0 * s.ord * INTERVAL '1 minute',
    %(end)s::timestamptz - INTERVAL '1 minute',
    INTERVAL '1 minute'
) AS t(ts)
"""
DIRTY_SQL = """
INSERT INTO metrics_rollup_dirty (series_id, hour)
SELECT s.id, h.hour
FROM unnest(%(ids)s::bigint[]) AS s(id)
CROSS JOIN generate_series(
    date_trunc('hour', %(start)s::timestamptz), %(end)s::timestamptz - INTERVAL '1 minute', INTERVAL '1 hour'
) AS h(hour)
ON CONFLICT DO NOTHING
"""


def minute_floor(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


def day_chunks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at midnights (UTC), so each chunk falls in one daily partition."""
    chunks = []
    while start < end:
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        chunks.append((start, min(midnight, end)))
        start = chunks[-1][1]
    return chunks


class Dataset:
    def __init__(self, *, conninfo: str, series: int, days: int, workers: int) -> None:
        self.conninfo = conninfo
        self.series = series
        self.days = days
        self.workers = workers
        self.set_name = f"s{series}"

    @property
    def tables(self) -> list[str]:
        """Where the set's rows live; continuous aggregates (TimescaleDB) cannot be deleted from."""
        from metrics import storage

        rollups = [] if storage.timescale_enabled() else ["metrics_rollup_1m", "metrics_rollup_1h"]
        return ["metrics_sample", *rollups, "metrics_rollup_dirty"]
        self.ids: list[int] = []
        self.uids: list[str] = []

    def ensure_series(self, team_id: int) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO metrics_series (uid, team_id, metric, labels, unit, created_at) "
                "SELECT gen_random_uuid(), %s, %s, jsonb_build_object('host', 'host-' || lpad(i::text, 5, '0'), "
                "'set', %s::text), 'ms', now() FROM generate_series(0, %s - 1) AS i "
                "ON CONFLICT (team_id, metric, labels) DO NOTHING",
                [team_id, METRIC, self.set_name, self.series],
            )
            rows = conn.execute(
                "SELECT id, uid::text FROM metrics_series WHERE team_id = %s AND metric = %s AND labels->>'set' = %s "
                "ORDER BY id",
                [team_id, METRIC, self.set_name],
            ).fetchall()
        self.ids = [row[0] for row in rows]
        self.uids = [row[1] for row in rows]
        assert len(self.ids) == self.series, (len(self.ids), self.series)

    def state(self, conn) -> tuple[datetime, datetime] | None:
        conn.execute(STATE_DDL)
        return conn.execute(
            "SELECT loaded_from, loaded_to FROM bench_query_state WHERE set_name = %s", [self.set_name]
        ).fetchone()

    def delete(self) -> None:
        log(f"deleting the samples and rollups of set {self.set_name}")
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(STATE_DDL)
            with conn.transaction():
                for table in self.tables:
                    conn.execute(
                        sql.SQL("DELETE FROM {} WHERE series_id = ANY(%s)").format(sql.Identifier(table)), [self.ids]
                    )
                conn.execute("DELETE FROM bench_query_state WHERE set_name = %s", [self.set_name])

    def load(self, now: datetime) -> dict:
        """Load what is missing of [now - days, now) (minute-aligned). Returns rows loaded and seconds."""
        end = minute_floor(now)
        start = end - timedelta(days=self.days)
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            state = self.state(conn)
        if state is None:
            ranges = [(start, end)]
            covered = None
        else:
            loaded_from, loaded_to = state
            ranges = []
            if start < loaded_from:
                ranges.append((start, loaded_from))
            if loaded_to < end:
                ranges.append((loaded_to, end))
            covered = (loaded_from, loaded_to)
        chunks = [chunk for a, b in ranges for chunk in day_chunks(a, b)]
        minutes = sum(int((b - a).total_seconds() // 60) for a, b in chunks)
        rows = minutes * len(self.ids)
        if not chunks:
            return {"rows_loaded": 0, "load_s": 0.0}
        log(f"loading {rows:,} rows ({len(chunks)} chunks, {self.workers} workers)")
        lock = threading.Lock()
        started = time.perf_counter()
        with tqdm(total=rows, unit="rows", unit_scale=True, desc="load samples", file=sys.stderr) as bar:

            def work(chunk: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
                a, b = chunk
                with psycopg.connect(self.conninfo) as conn:
                    conn.execute("SET synchronous_commit = off")
                    partition = f"metrics_sample_p{a:%Y%m%d}"
                    exists = conn.execute("SELECT to_regclass(%s)", [partition]).fetchone()[0] is not None
                    table = sql.Identifier(partition if exists else "metrics_sample")
                    params = {"ids": self.ids, "start": a, "end": b}
                    conn.execute(sql.SQL(LOAD_SQL).format(table=table), params)
                    conn.execute(DIRTY_SQL, params)
                    conn.commit()
                with lock:
                    bar.update(int((b - a).total_seconds() // 60) * len(self.ids))
                return chunk

            with ThreadPoolExecutor(self.workers) as pool:
                done = list(pool.map(work, chunks))
        elapsed = time.perf_counter() - started
        lo = min([a for a, _ in done] + ([covered[0]] if covered else []))
        hi = max([b for _, b in done] + ([covered[1]] if covered else []))
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO bench_query_state (set_name, loaded_from, loaded_to) VALUES (%s, %s, %s) "
                "ON CONFLICT (set_name) DO UPDATE SET loaded_from = EXCLUDED.loaded_from, "
                "loaded_to = EXCLUDED.loaded_to",
                [self.set_name, lo, hi],
            )
            log(f"loaded {rows:,} rows in {elapsed:.1f}s ({rows / elapsed:,.0f} rows/s)")
            if len(chunks) > 2:  # a bulk load: fresh statistics now rather than whenever autovacuum gets to it
                log("analyzing metrics_sample")
                conn.execute("ANALYZE metrics_sample")
                conn.execute("ANALYZE metrics_series")
        return {"rows_loaded": rows, "load_s": elapsed}


def rollups_fill(workers: int) -> dict:
    """Drain metrics_rollup_dirty with the real services.rollups_refresh, in `workers` threads."""
    from django.db import connection

    from metrics import services, storage

    with connection.cursor() as cursor:
        pending = storage.rollups_pending(cursor)
    if not pending:
        return {"rollup_hours": 0, "rollup_s": 0.0}
    log(f"refreshing rollups: {pending:,} dirty series-hours, {workers} workers")
    lock = threading.Lock()
    batch_times: list[float] = []
    started = time.perf_counter()
    with tqdm(total=pending, unit="series-hours", unit_scale=True, desc="rollups", file=sys.stderr) as bar:

        def work() -> None:
            previous = 0
            try:
                last = time.perf_counter()
                for done, _ in services.rollups_refresh():
                    now = time.perf_counter()
                    with lock:
                        bar.update(done - previous)
                        batch_times.append(now - last)
                    previous, last = done, now
            finally:
                connection.close()

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    elapsed = time.perf_counter() - started
    vacuum_started = time.perf_counter()
    with connection.cursor() as cursor:
        tables = ["metrics_rollup_dirty"]
        if not storage.timescale_enabled():  # continuous aggregates are views to VACUUM
            tables += ["metrics_rollup_1h", "metrics_rollup_1m"]
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    log(
        f"rollups: {pending:,} series-hours in {elapsed:.1f}s, {len(batch_times)} batches, "
        f"batch p50 {percentile(batch_times, 50) * 1000:.0f} ms, p95 {percentile(batch_times, 95) * 1000:.0f} ms"
    )
    return {
        "rollup_hours": pending,
        "rollup_s": elapsed,
        "rollup_batch_ms_p50": percentile(batch_times, 50) * 1000,
        "vacuum_s": time.perf_counter() - vacuum_started,
    }


def connect_ms(conninfo: str, count: int = 20) -> float:
    """Median time to open (and close) a new PostgreSQL connection: what a request pays if it
    cannot reuse one."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        psycopg.connect(conninfo).close()
        times.append(time.perf_counter() - started)
    return percentile(times, 50) * 1000


def db_sessions(conninfo: str, dbname: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return int(conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [dbname]).fetchone()[0])


def plan_queries(ds: Dataset, *, now_s: int, days: int, requests: int, warmup: int, seed: int) -> list[dict]:
    """Interleaved list of {kind, index, params}; warm-up entries have warm=True."""
    rng = random.Random(seed)
    minute = now_s // 60 * 60
    kinds = {
        "range": lambda: {"start": now_s - days * 86400, "end": now_s, "step": 3600, "agg": "avg"},
        "raw": lambda: {"start": now_s - 3600, "end": now_s, "step": 60, "agg": "avg"},
        # A minute that certainly holds a sample: a few hours back, at a random minute.
        "baseline": lambda: {"start": (t := minute - rng.randrange(120, 600) * 60), "end": t, "step": 60, "agg": "avg"},
    }
    queries = []
    for warm, count in ((True, warmup), (False, requests)):
        batch = [
            {"kind": kind, "warm": warm, "series": rng.randrange(len(ds.ids)), **make()}
            for kind, make in kinds.items()
            for _ in range(count)
        ]
        rng.shuffle(batch)
        queries += batch
    return queries


def check_response(query: dict, status: int, body: bytes) -> str | None:
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    doc = orjson.loads(body)
    expected = {"range": "1h", "raw": "raw", "baseline": "raw"}[query["kind"]]
    if doc["source"] != expected:
        return f"{query['kind']}: source {doc['source']}, expected {expected}"
    values = [v for _, v in doc["points"] if v is not None]
    if query["kind"] == "baseline" and len(values) != 1:
        return f"baseline: {len(values)} values, expected 1"
    if query["kind"] != "baseline" and len(values) < len(doc["points"]) - 2:
        return f"{query['kind']}: only {len(values)} of {len(doc['points'])} buckets have data"
    return None


def time_http(port: int, token: str, ds: Dataset, queries: list[dict]) -> tuple[dict[str, list[float]], list[str]]:
    headers = {"Authorization": f"Bearer {token}"}
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    latencies: dict[str, list[float]] = {"range": [], "raw": [], "baseline": []}
    errors = []
    try:
        for query in tqdm(queries, desc="HTTP queries", file=sys.stderr):
            path = (
                f"/api/v1/query_range?series={ds.uids[query['series']]}&start={query['start']}&end={query['end']}"
                f"&step={query['step']}&agg={query['agg']}"
            )
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - started
            error = check_response(query, response.status, body)
            if error:
                errors.append(error)
            elif not query["warm"]:
                latencies[query["kind"]].append(elapsed)
    finally:
        conn.close()
    return latencies, errors


def time_inprocess(ds: Dataset, queries: list[dict]) -> dict[str, list[float]]:
    from metrics.selectors import query_range

    latencies: dict[str, list[float]] = {"range": [], "raw": [], "baseline": []}
    for query in tqdm(queries, desc="in-process queries", file=sys.stderr):
        started = time.perf_counter()
        query_range(
            series_id=ds.ids[query["series"]],
            start_s=query["start"],
            end_s=query["end"],
            step=query["step"],
            agg=query["agg"],
        )
        elapsed = time.perf_counter() - started
        if not query["warm"]:
            latencies[query["kind"]].append(elapsed)
    return latencies


def main() -> None:
    parser = bench_parser(__doc__, web=True)
    parser.add_argument("--series", type=int, default=1000, help="series stored (default %(default)s)")
    parser.add_argument("--days", type=int, default=30, help="days of 1-minute samples (default %(default)s)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests of each kind (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests of each kind first")
    parser.add_argument("--workers", type=int, default=2, help="parallel loaders and rollup workers")
    parser.add_argument("--reload", action="store_true", help="delete this data set and load it again")
    parser.add_argument("--reuse-server", action="store_true", help="use a server already answering on --port")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    check_isolation(args.database_url, args.port)
    if args.days > 30:
        log("note: retention is 30 days of raw data; older days only survive because no maintenance runs here")
    start = bench_start(args.database_url, debug=args.debug)
    conninfo, dbname = start.conninfo, start.dbname

    from django.db import connection, transaction

    from core.teams.services import team_get_or_create
    from metrics import storage

    with transaction.atomic(), connection.cursor() as cursor:
        created = storage.layout_prepare(cursor, days_back=args.days + 1, days_ahead=3)
    if created:
        log(f"created {len(created)} partitions")
    team, _ = team_get_or_create(slug=TEAM)
    ds = Dataset(conninfo=conninfo, series=args.series, days=args.days, workers=args.workers)
    ds.ensure_series(team.id)
    if args.reload:
        ds.delete()
    now = datetime.now(UTC)
    loading = ds.load(now)
    rollups = rollups_fill(args.workers)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        stored = conn.execute(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'metrics_sample'::regclass"
        ).fetchone()[0]
        loaded_from, loaded_to = ds.state(conn)
    stored_rows = int((loaded_to - loaded_from).total_seconds() // 60) * len(ds.ids)
    log(f"data set {ds.set_name}: {stored_rows:,} rows from {loaded_from:%Y-%m-%d %H:%M} to {loaded_to:%H:%M} UTC")

    now_s = int(loaded_to.timestamp())  # queries end where the data ends (now, unless loading took long)
    queries = plan_queries(ds, now_s=now_s, days=args.days, requests=args.requests, warmup=args.warmup, seed=args.seed)
    with server_running(
        args.database_url, args.port, debug=args.debug, reuse=args.reuse_server, processes=args.web_processes
    ) as server:
        token = create_token(args.database_url, team=TEAM, name="bench query", scopes="read")
        sessions_before = db_sessions(conninfo, dbname)
        with CpuMeter(server_pid=server.pid, dbname=dbname) as meter:
            http_latencies, errors = time_http(args.port, token, ds, queries)
        time.sleep(1.5)  # backends report their session counts to the statistics within a second
        sessions = db_sessions(conninfo, dbname) - sessions_before - 1  # minus our own probe
    new_connection_ms = connect_ms(conninfo)
    inproc = time_inprocess(ds, queries)
    connection.close()
    for error in errors[:5]:
        log(f"error: {error}")

    def ms(values: list[float], pct: float) -> float:
        return round(percentile(values, pct) * 1000, 2)

    p95 = {kind: percentile(values, 95) for kind, values in http_latencies.items()}
    result = {
        "range_p50_ms": ms(http_latencies["range"], 50),
        "range_p95_ms": ms(http_latencies["range"], 95),
        "raw_p50_ms": ms(http_latencies["raw"], 50),
        "raw_p95_ms": ms(http_latencies["raw"], 95),
        "baseline_p50_ms": ms(http_latencies["baseline"], 50),
        "baseline_p95_ms": ms(http_latencies["baseline"], 95),
        "range_vs_baseline_p95": round(
            percentile(http_latencies["range"], 95) / percentile(http_latencies["baseline"], 95), 2
        ),
        "raw_vs_baseline_p95": round(
            percentile(http_latencies["raw"], 95) / percentile(http_latencies["baseline"], 95), 2
        ),
        "inproc_range_p50_ms": ms(inproc["range"], 50),
        "inproc_range_p95_ms": ms(inproc["range"], 95),
        "inproc_raw_p50_ms": ms(inproc["raw"], 50),
        "inproc_raw_p95_ms": ms(inproc["raw"], 95),
        "inproc_baseline_p95_ms": ms(inproc["baseline"], 95),
        "requests": args.requests,
        "errors": len(errors),
        "db_sessions_per_request": round(sessions / len(queries), 2),
        "new_db_connection_ms": round(new_connection_ms, 2),
        # Backends of this phase live for one request each, so only the machine total is meaningful here.
        **{k: v for k, v in meter.report().items() if k in ("server_cpu_pct", "machine_cpu_pct", "cpus")},
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "series": len(ds.ids),
        "days": args.days,
        "rows": stored_rows,
        "sample_table_size": stored,
        "rows_loaded": loading["rows_loaded"],
        "load_s": round(loading["load_s"], 1),
        "rollup_hours": rollups["rollup_hours"],
        "rollup_s": round(rollups["rollup_s"], 1),
        "debug": args.debug,
        "targets": {"range_p95_ms": TARGET_RANGE_P95_MS, "raw_p95_ms": TARGET_RAW_P95_MS},
        "meets_targets": (
            not errors and p95["range"] * 1000 <= TARGET_RANGE_P95_MS and p95["raw"] * 1000 <= TARGET_RAW_P95_MS
        ),
        "total_s": round(time.perf_counter() - start.started, 1),
    }
    emit(result, args.json)


if __name__ == "__main__":
    main()
