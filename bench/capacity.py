"""Capacity planning: calibration of the time to exhaustion (goal 1) and the cost of analysing a
fleet (goal 2).

Calibration (no database): synthetic hourly series with a known time to exhaustion — linear,
exponential, seasonal with trend, step change and reset (capacity/synthetic.py) — on seeds the
model constants were NOT tuned on (tuning used seeds 1-4; this uses --seed, default 1000). Per
kind and overall: the share of cases whose p50 is within 10 % of the truth and the share whose
p10–p90 contains the truth (goal: both ≥ 0.8). Baseline in the same run, on the same cases:
Netdata-style "last hour" linear extrapolation and a plain least-squares line over the whole
history (no change points, no seasonality); we report their within-10 % share too.

Fleet (bench database `hiveops_bench`): `--resources` (1,000) series with `--days` (35) of 1-hour
rollups written directly into `metrics_rollup_1h` (loading them through ingest would take an
hour of rollup refresh; the analysis only reads rollups), one resource each; then
`capacity.services.analyses_refresh` over all of them, timed, with a tqdm bar. Baseline in the
same run: reading the same history without analysing it (`history_many`), so
`analysis_vs_read` says how much the maths adds to the database read. `--processes` (2) forked
processes do the maths. Goal: 10,000 resources ≤ 120 s (`fleet_seconds_per_10k`, scaled from
the fleet measured: the chunks are independent).

`--worker` times the hourly path instead: `capacity.services.fleet_run_start` splits every enabled
resource of the bench database into chunk tasks, and a real Celery worker (prefork, concurrency
`--processes`, on its own queue of `--redis-url`) runs them; `worker_seconds` is from the start
to the run's `done`, `worker_cpu_ms_per_resource` the worker processes' CPU (PostgreSQL apart).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    DEFAULT_DATABASE_URL,
    CpuMeter,
    check_isolation,
    emit,
    ensure_database,
    log,
    setup_django,
    stop_on_signals,
)
from bench._storage import rollups_from_stage, rollups_stage
from capacity import calculations as calc
from capacity.synthetic import KINDS, cases

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400.0
BENCH_TEAM = "bench-capacity"


def baseline_last_hour(case) -> float:
    """Netdata's disk-full estimate: the slope of the last hour, extrapolated."""
    slope = (case.values[-1] - case.values[-2]) / 3600.0
    return (case.limit - case.values[-1]) / slope if slope > 0 else float("inf")


def baseline_line(case) -> float:
    """A least-squares line over the whole history, extrapolated to the limit."""
    t = case.ts - case.ts[-1]
    slope, intercept = np.polyfit(t, case.values, 1)
    return (case.limit - intercept) / slope if slope > 0 else float("inf")


def calibration(per_kind: int, seed: int) -> dict:
    from tqdm import tqdm

    stats = {kind: {"n": 0, "within": 0, "covered": 0, "last_hour": 0, "line": 0} for kind in KINDS}
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    limit = threadpool_limits(limits=1, user_api="blas")  # as capacity.services runs it
    for case in tqdm(cases(per_kind, seed=seed), desc="calibration", file=sys.stderr):
        now = float(case.ts[-1])
        fit = calc.fit_growth(case.ts, case.values, now=now, days=365, limit=case.limit, seed=int(now) % 997)
        ex = calc.exhaustion(fit, limit=case.limit, horizon_days=365)
        p10, p50, p90 = (float("inf") if v is None else v for v in (ex.p10, ex.p50, ex.p90))
        s, truth = stats[case.kind], case.truth_s
        s["n"] += 1
        s["within"] += abs(p50 - truth) <= 0.1 * truth
        s["covered"] += p10 <= truth <= p90
        s["last_hour"] += abs(baseline_last_hour(case) - truth) <= 0.1 * truth
        s["line"] += abs(baseline_line(case) - truth) <= 0.1 * truth
    elapsed = time.perf_counter() - started
    limit.restore_original_limits()
    total = sum(s["n"] for s in stats.values())

    def share(key: str, s=None) -> float:
        group = [s] if s else list(stats.values())
        return round(sum(g[key] for g in group) / sum(g["n"] for g in group), 3)

    return {
        "calibration_cases": total,
        "calibration_seed": seed,
        "p50_within_10pct": share("within"),
        "p10_p90_coverage": share("covered"),
        "goal1_met": share("within") >= 0.8 and share("covered") >= 0.8,
        "baseline_last_hour_within_10pct": share("last_hour"),
        "baseline_line_within_10pct": share("line"),
        "by_kind": {
            kind: {
                "p50_within_10pct": share("within", s),
                "p10_p90_coverage": share("covered", s),
                "baseline_line_within_10pct": share("line", s),
            }
            for kind, s in stats.items()
        },
        "ms_per_case": round(1000 * elapsed / total, 1),
    }


def load_fleet(count: int, days: int) -> list:
    """`count` series with `days` of hourly rollups ending this hour, and one resource each.
    Kept between runs (topped up to the current hour)."""
    from django.db import connection

    from capacity.models import Resource
    from core.teams.services import team_get_or_create
    from metrics.models import Series

    team = team_get_or_create(slug=BENCH_TEAM, name="Bench capacity")[0]
    have = Series.objects.filter(team=team, metric="bench_utilization").count()
    Series.objects.bulk_create(
        [Series(team=team, metric="bench_utilization", labels={"host": f"h{i:05d}"}) for i in range(have, count)]
    )
    series = list(Series.objects.filter(team=team, metric="bench_utilization").order_by("id")[:count])
    end = int(time.time()) // 3600 * 3600
    hours = np.arange(end - days * 24 * 3600, end, 3600, dtype=np.int64)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT series_id, max(bucket) FROM metrics_rollup_1h WHERE series_id = ANY(%s) GROUP BY series_id",
            [[s.id for s in series]],
        )
        newest = {sid: int(b.timestamp()) for sid, b in cursor.fetchall()}
    rng = np.random.default_rng(42)
    buffer = io.StringIO()
    rows = 0
    for i, s in enumerate(series):
        todo = hours[hours > newest.get(s.id, 0)]
        if not len(todo):
            continue
        kind = KINDS[i % len(KINDS)]
        level, slope = rng.uniform(20, 70), rng.uniform(-0.2, 1.5)
        t = (todo - end) / DAY
        y = level + slope * t + rng.normal(0, 1.0, len(t))
        if kind == "seasonal":
            y += 8 * np.sin(2 * np.pi * t)
        elif kind == "reset":
            y += np.where(t < -3, 15, 0)
        for ts, v in zip(todo.tolist(), y.tolist(), strict=True):
            buffer.write(f"{s.id}\t{time.strftime('%Y-%m-%d %H:%M:%S+00', time.gmtime(ts))}\t{v}\t{v}\t{v}\t1\t{v}\n")
            rows += 1
    if rows:
        log(f"writing {rows} hourly rollup rows")
        buffer.seek(0)
        with connection.cursor() as cursor:
            stage = rollups_stage(cursor)  # on TimescaleDB the aggregates are built from samples
            with cursor.copy(f"COPY {stage} (series_id, bucket, min, max, avg, count, last) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            rollups_from_stage(cursor, table="metrics_rollup_1h")
    existing = set(Resource.objects.filter(team=team).values_list("series_id", flat=True))
    Resource.objects.bulk_create(
        [
            Resource(team=team, name=f"bench {s.labels['host']}", series=s, allocation=4, unit_cost=25)
            for s in series
            if s.id not in existing
        ]
    )
    return list(Resource.objects.filter(team=team, series__in=series).select_related("series"))


def cpu_seconds() -> tuple[float, float]:
    """(this process, its finished children): user + system CPU seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def fleet(count: int, days: int, database_url: str, processes: int) -> dict:
    from django.conf import settings
    from django.utils import timezone
    from tqdm import tqdm

    from capacity.selectors import history_many
    from capacity.services import CHUNK, analyses_refresh

    settings.HIVEOPS_CAPACITY_HISTORY_DAYS = days
    resources = load_fleet(count, days)
    now = timezone.now()
    log("baseline: reading the history only")
    started = time.perf_counter()
    ids = [r.series_id for r in resources]
    points = 0
    for i in range(0, len(ids), CHUNK):
        points += sum(len(ts) for ts, _ in history_many(series_ids=ids[i : i + CHUNK], end=now, days=days).values())
    read_s = time.perf_counter() - started
    bar = tqdm(total=len(resources), desc="analysing", file=sys.stderr)
    seen = [0]

    def progress(done: int, failed: int) -> None:
        bar.update(done + failed - seen[0])
        seen[0] = done + failed

    dbname = database_url.rsplit("/", 1)[-1]
    with CpuMeter(server_pid=None, dbname=dbname) as meter:
        started, cpu = time.perf_counter(), cpu_seconds()
        done, failed = analyses_refresh(resources=resources, now=now, progress=progress, processes=processes)
        analyse_s = time.perf_counter() - started
        own_cpu, pool_cpu = (after - before for after, before in zip(cpu_seconds(), cpu, strict=True))
    bar.close()
    return {
        "fleet_resources": len(resources),
        "fleet_history_days": days,
        "fleet_points": points,
        "fleet_analysed": done,
        "fleet_failed": failed,
        "fleet_processes": processes,
        "fleet_seconds": round(analyse_s, 2),
        # Goal 2 is 10,000 resources in 120 s: the chunks are independent, so the time scales
        # with the count (the history read included).
        "fleet_seconds_per_10k": round(analyse_s * 10_000 / max(1, len(resources)), 1),
        "goal2_met": analyse_s * 10_000 / max(1, len(resources)) <= 120 and failed == 0,
        # CPU seconds of this process (reads, writes) and of the pool's processes (the maths),
        # whatever the machine's load; on two free cores the run takes about the larger of
        # (own + pool) / 2 and own.
        "fleet_cpu_seconds_own": round(own_cpu, 2),
        "fleet_cpu_seconds_pool": round(pool_cpu, 2),
        "fleet_cpu_ms_per_resource": round(1000 * (own_cpu + pool_cpu) / max(1, len(resources)), 2),
        "baseline_read_seconds": round(read_s, 2),
        "analysis_vs_read": round(analyse_s / read_s, 2) if read_s else None,
        "ms_per_resource": round(1000 * analyse_s / max(1, len(resources)), 1),
        **meter.report(),
    }


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_cpu_seconds(pid: int) -> float:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sum(process_cpu_seconds(p) for p in [pid, *map(int, children)])


def fleet_via_worker(count: int, days: int, processes: int, nice: int | None) -> dict:
    """The hourly path: `capacity.tasks.analyse_fleet`'s service splits every enabled resource of
    the bench database into chunk tasks that a real Celery worker (prefork, `--concurrency
    processes`, HIVEOPS_WORKER_NICE `nice` or its default) runs."""
    from django.conf import settings

    from capacity.models import AnalysisRun
    from capacity.services import fleet_run_start
    from hive_ops.celery import app

    load_fleet(count, days)
    AnalysisRun.objects.filter(scheduled=True).delete()  # the bench's own database: start afresh
    queue = f"bench-capacity-{os.getpid()}"
    app.conf.CELERY_TASK_DEFAULT_QUEUE = queue
    env = {**os.environ, "CELERY_QUEUE": queue, "HIVEOPS_CAPACITY_HISTORY_DAYS": str(days)}
    if nice is not None:
        env["HIVEOPS_WORKER_NICE"] = str(nice)
    command = [sys.executable, "-m", "celery", "-A", "hive_ops", "worker", "-Q", queue, "--concurrency"]
    command += [str(processes), "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(5)  # the worker is up
        cpu_before = worker_cpu_seconds(worker.pid)
        started = time.perf_counter()
        run = fleet_run_start(width=processes)
        while run.status == AnalysisRun.Status.RUNNING and time.perf_counter() - started < 1800:
            time.sleep(0.5)
            run.refresh_from_db()
        elapsed = time.perf_counter() - started
        worker_cpu = worker_cpu_seconds(worker.pid) - cpu_before
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    total = max(1, run.total)
    return {
        "worker_resources": run.total,  # every enabled resource (at least --resources)
        "worker_concurrency": processes,
        "worker_nice": settings.CELERY_WORKER_NICE if nice is None else nice,
        "worker_chunk": settings.HIVEOPS_CAPACITY_RUN_CHUNK,
        "worker_run_status": run.status,
        "worker_analysed": run.done - run.failed,
        "worker_failed": run.failed,
        "worker_seconds": round(elapsed, 2),
        "worker_seconds_per_10k": round(elapsed * 10_000 / total, 1),
        "worker_cpu_ms_per_resource": round(1000 * worker_cpu / total, 2),
        "goal2_met_via_worker": elapsed * 10_000 / total <= 120 and run.failed == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON line on stdout (progress on stderr)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--cases", type=int, default=100, help="calibration cases per growth kind (default 100)")
    parser.add_argument("--seed", type=int, default=1000, help="calibration seed (tuning used 1-4)")
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--days", type=int, default=35, help="hourly history per resource (default 35, what is read)")
    parser.add_argument("--processes", type=int, default=2, help="processes for the fleet's maths (default 2)")
    parser.add_argument("--skip-fleet", action="store_true", help="calibration only (no database)")
    parser.add_argument(
        "--worker",
        action="store_true",
        help="time the hourly path instead: chunk tasks in a real Celery worker (--processes concurrency)",
    )
    parser.add_argument("--worker-nice", type=int, help="HIVEOPS_WORKER_NICE of --worker (default: its own, 10)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"), help="broker")
    args = parser.parse_args()
    stop_on_signals()
    result = {"bench": "capacity", **calibration(args.cases, args.seed)}
    if not args.skip_fleet:
        check_isolation(args.database_url, 8100)
        ensure_database(args.database_url)
        os.environ["REDIS_URL"] = args.redis_url
        os.environ["HIVEOPS_INSTALLATION"] = f"bench-capacity-{os.getpid()}"  # its own Redis keys
        setup_django(args.database_url)
        if args.worker:
            result.update(fleet_via_worker(args.resources, args.days, args.processes, args.worker_nice))
        else:
            result.update(fleet(args.resources, args.days, args.database_url, args.processes))
    emit(result, args.json)


if __name__ == "__main__":
    main()
