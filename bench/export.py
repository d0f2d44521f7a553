"""Memory and speed of a large series export: 10 million samples as Parquet over HTTP.

Goal: exporting 10 million samples as Parquet streams with the web process staying under 300 MB.

1. Load (once; kept between runs, state in table `bench_export_state`): --series series of
   metric `bench_export` with --samples-per-series 1-minute samples each (default 1,000 x 10,000 =
   10,000,000 rows, about 7 days), written by INSERT … SELECT generate_series into the daily
   partitions of the bench database `hiveops_exportbench`.
2. Start a real daphne on 127.0.0.1:--port (Redis db 9) against that database.
3. Baseline: RSS (VmRSS of daphne and its children) idle right after start, then during a small
   export (one series, one hour), then the big export, each downloaded over HTTP to a file while a
   thread samples the RSS every --interval seconds.
4. Verify the downloaded Parquet file (row count, first/last timestamps, one value) with pyarrow.

Prints peak RSS, its ratio to the idle baseline and to the limit, throughput in samples/s and
bytes/s, and the CPU split (other people's load skews absolute numbers; see bench/README.md).
"""

from __future__ import annotations

import http.client
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

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
from psycopg import sql

DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_exportbench"
DEFAULT_PORT = 8110
REDIS_URL = "redis://127.0.0.1:6379/9"
TEAM = "bench-export"
METRIC = "bench_export"
LIMIT_MB = 300

STATE_DDL = """
CREATE TABLE IF NOT EXISTS bench_export_state (
    series integer PRIMARY KEY, per_series integer NOT NULL,
    loaded_from timestamptz NOT NULL, loaded_to timestamptz NOT NULL
)
"""
# Value = series id + minute index / 1000: exact in float64, so the file can be checked.
LOAD_SQL = """
INSERT INTO {table} (series_id, ts, value)
SELECT s.id, t.ts, s.id + extract(epoch FROM t.ts - %(origin)s::timestamptz) / 60000.0
FROM unnest(%(ids)s::bigint[]) AS s(id)
CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz - INTERVAL '1 minute', INTERVAL '1 minute')
    AS t(ts)
"""


def process_rss_mb(pid: int) -> float:
    """VmRSS of the process and its descendants, in MiB."""
    total_kb, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").glob("*"):
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return total_kb / 1024


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0.0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak = max(self.peak, process_rss_mb(self.pid))
            self.stopped.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.join()
        self.peak = max(self.peak, process_rss_mb(self.pid))


def ensure_series(conninfo: str, count: int) -> list[int]:
    """The data set's series (the team exists: main() creates the token, and with it the team, first)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        team_id = conn.execute("SELECT id FROM teams_team WHERE slug = %s", [TEAM]).fetchone()[0]
        conn.execute(
            "INSERT INTO metrics_series (uid, team_id, metric, labels, unit, created_at) "
            "SELECT gen_random_uuid(), %s, %s, jsonb_build_object('host', 'host-' || lpad(i::text, 5, '0')), "
            "'ms', now() FROM generate_series(0, %s - 1) AS i ON CONFLICT (team_id, metric, labels) DO NOTHING",
            [team_id, METRIC, count],
        )
        rows = conn.execute(
            "SELECT id FROM metrics_series WHERE team_id = %s AND metric = %s AND labels->>'host' < %s ORDER BY id",
            [team_id, METRIC, f"host-{count:05d}"],
        ).fetchall()
    return [row[0] for row in rows]


def load(conninfo: str, *, series: int, per_series: int, reload: bool) -> tuple[datetime, datetime, list[int]]:
    ids = ensure_series(conninfo, series)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(STATE_DDL)
        state = conn.execute(
            "SELECT per_series, loaded_from, loaded_to FROM bench_export_state WHERE series = %s", [series]
        ).fetchone()
        if state and state[0] == per_series and not reload:
            log(f"data set already loaded: {series} x {per_series} samples ({state[1]} .. {state[2]})")
            return state[1], state[2], ids
        log("deleting the previous samples of the data set")
        conn.execute("DELETE FROM metrics_sample WHERE series_id = ANY(%s)", [ids])
        conn.execute("DELETE FROM bench_export_state WHERE series = %s", [series])
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(minutes=per_series)
    log(f"loading {series * per_series:,} samples ({start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC)")
    started = time.perf_counter()
    day = start
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET synchronous_commit = off")
        while day < end:
            chunk_end = min(end, day.replace(hour=0, minute=0) + timedelta(days=1))
            partition = f"metrics_sample_p{day:%Y%m%d}"
            exists = conn.execute("SELECT to_regclass(%s)", [partition]).fetchone()[0] is not None
            table = sql.Identifier(partition if exists else "metrics_sample")
            conn.execute(
                sql.SQL(LOAD_SQL).format(table=table), {"ids": ids, "start": day, "end": chunk_end, "origin": start}
            )
            conn.commit()
            log(f"  {day:%Y-%m-%d %H:%M} .. {chunk_end:%H:%M} into {partition if exists else 'metrics_sample'}")
            day = chunk_end
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("ANALYZE metrics_sample")
        conn.execute("INSERT INTO bench_export_state VALUES (%s, %s, %s, %s)", [series, per_series, start, end])
    log(f"loaded in {time.perf_counter() - started:.0f} s")
    return start, end, ids


def download(port: int, path: str, token: str, target: Path, mb_per_s: float = 0) -> tuple[int, int, float]:
    """GET path into target, reading at most mb_per_s (0: as fast as possible); returns (HTTP
    status, bytes, seconds)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    started = time.perf_counter()
    size = 0
    block = 1 << 20 if not mb_per_s else 1 << 16
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        with target.open("wb") as out:
            while chunk := response.read(block):
                out.write(chunk)
                size += len(chunk)
                if mb_per_s:
                    ahead = size / (mb_per_s * 1e6) - (time.perf_counter() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        return response.status, size, time.perf_counter() - started
    finally:
        conn.close()


def export_path(fmt: str, start: datetime, end: datetime, **params: str) -> str:
    query = {"format": fmt, "start": int(start.timestamp()), "end": int(end.timestamp()) - 1, **params}
    return "/api/v1/export/series?" + urlencode(query)


def verify_parquet(path: Path, expected_rows: int, start: datetime, series: int, per_series: int) -> dict:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    first = pq.ParquetFile(path).read_row_group(0, columns=["ts", "value"]).slice(0, 2).to_pydict()
    ok = meta.num_rows == expected_rows and first["ts"][0] == start and first["ts"][1] == start + timedelta(minutes=1)
    ok = ok and abs((first["value"][1] - first["value"][0]) - 1 / 1000) < 1e-9
    return {"parquet_rows": meta.num_rows, "parquet_row_groups": meta.num_row_groups, "parquet_ok": bool(ok)}


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--samples-per-series", type=int, default=10_000)
    parser.add_argument("--formats", default="parquet", help="comma-separated: parquet,csv,json")
    parser.add_argument("--interval", type=float, default=0.05, help="RSS sampling interval, s")
    parser.add_argument("--reload", action="store_true", help="reload the data set")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument(
        "--slow-client-mbps",
        type=float,
        default=5.0,
        help="also export the first 100 series as CSV to a client reading this many MB/s (0: skip)",
    )
    parser.add_argument("--keep-files", action="store_true", help="keep the downloaded files in .run/")
    args = parser.parse_args()
    check_isolation(args.database_url, args.port)
    conninfo = bench_start(args.database_url, django=False).conninfo
    token = create_token(args.database_url, team=TEAM, name="bench-export", scopes="read")
    start, end, _ = load(conninfo, series=args.series, per_series=args.samples_per_series, reload=args.reload)
    if args.load_only:
        return
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["DB_CONN_MAX_AGE"] = "0"
    expected = args.series * args.samples_per_series
    result: dict = {"samples": expected, "series": args.series, "limit_mb": LIMIT_MB}
    out_dir = Path(__file__).resolve().parent.parent / ".run"
    with server_running(args.database_url, args.port) as server:
        time.sleep(1.0)
        result["rss_idle_mb"] = round(process_rss_mb(server.pid), 1)
        small = out_dir / "bench-export-small.parquet"
        with RssSampler(server.pid, args.interval) as sampler:
            path = export_path(
                "parquet", end - timedelta(hours=1), end, metric=METRIC, **{"match[]": "host=host-00000"}
            )
            status, size, seconds = download(args.port, path, token, small)
        assert status == 200, (status, small.read_bytes()[:300])
        result["rss_small_export_peak_mb"] = round(sampler.peak, 1)
        for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
            target = out_dir / f"bench-export-big.{fmt}"
            log(f"exporting {expected:,} samples as {fmt}")
            with (
                CpuMeter(server_pid=server.pid, dbname="hiveops_exportbench") as cpu,
                RssSampler(server.pid, args.interval) as sampler,
            ):
                status, size, seconds = download(args.port, export_path(fmt, start, end, metric=METRIC), token, target)
            if status != 200:
                raise SystemExit(f"export answered {status}: {target.read_bytes()[:300]!r}")
            log(f"{fmt}: {size / 1e6:.1f} MB in {seconds:.1f} s, peak RSS {sampler.peak:.1f} MB")
            result[f"{fmt}_seconds"] = round(seconds, 2)
            result[f"{fmt}_bytes"] = size
            result[f"{fmt}_samples_per_s"] = round(expected / seconds)
            result[f"{fmt}_rss_peak_mb"] = round(sampler.peak, 1)
            result[f"{fmt}_rss_peak_over_idle"] = round(sampler.peak / result["rss_idle_mb"], 2)
            result[f"{fmt}_rss_peak_over_small_export"] = round(sampler.peak / result["rss_small_export_peak_mb"], 2)
            result[f"{fmt}_rss_peak_over_limit"] = round(sampler.peak / LIMIT_MB, 3)
            result[f"{fmt}_cpu"] = cpu.report()
            if fmt == "parquet":
                result.update(verify_parquet(target, expected, start, args.series, args.samples_per_series))
            if not args.keep_files:
                target.unlink()
        small.unlink(missing_ok=True)
        if args.slow_client_mbps:
            target = out_dir / "bench-export-slow.csv"
            path = export_path("csv", start, end, metric=METRIC, **{"match[]": 'host=~"host-000[0-9][0-9]"'})
            log(f"exporting 100 series as csv to a client reading {args.slow_client_mbps} MB/s")
            with RssSampler(server.pid, args.interval) as sampler:
                status, size, seconds = download(args.port, path, token, target, args.slow_client_mbps)
            assert status == 200, status
            result["slow_client_csv_bytes"] = size
            result["slow_client_csv_seconds"] = round(seconds, 2)
            result["slow_client_csv_rss_peak_mb"] = round(sampler.peak, 1)
            result["slow_client_csv_rss_peak_over_idle"] = round(sampler.peak / result["rss_idle_mb"], 2)
            target.unlink()
    peaks = [v for k, v in result.items() if k.endswith("_rss_peak_mb")]
    result["goal_met"] = bool(peaks) and max(peaks) < LIMIT_MB and result.get("parquet_ok", True)
    emit(result, args.json)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
