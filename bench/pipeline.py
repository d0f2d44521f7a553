"""The forecasting app's production paths against a real database (issue 6 throughput goals).

1. Forecast refresh: `--forecast-series` series (default 1,000) with `--days` of 1-minute rollups;
   `forecasts_refresh` in batches of 50 on `--workers` processes (as Celery runs it), twice: the
   first run chooses each series' model (the daily selection), the second refreshes with the
   stored winners (every 15 min). Goal: 1,000 series within 5 minutes on this 2-core machine.
2. Detection: one new sample for each of `--detect-series` series (default 10,000) whose
   detectors already hold a learned state; `detect_series` in chunks of 2,000 on one process
   (per worker core): row locks, sample read, scoring, score/state writes. Goal: ≤ 1 s per core.
   Baseline in the same run: the same sample read alone (`samples_window`), as a ratio.

Database `hiveops_pipebench` (created and migrated when missing; data is loaded once and reused).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, ensure_database, log, setup_django
from bench._storage import rollups_from_stage, rollups_stage

DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_pipebench"
BATCH = 50
DETECT_CHUNK = 2000


def load_rollups(team, count: int, days: int, now: datetime) -> list[int]:
    """`count` series with a daily cycle, trend and noise as 1-minute rollup rows."""
    from django.db import connection

    from metrics.models import Series

    existing = list(Series.objects.filter(team=team, metric="pipe_cpu").order_by("id").values_list("id", flat=True))
    if len(existing) >= count:
        return existing[:count]
    Series.objects.bulk_create(
        [Series(team=team, metric="pipe_cpu", labels={"host": f"h{i}"}) for i in range(len(existing), count)]
    )
    ids = list(Series.objects.filter(team=team, metric="pipe_cpu").order_by("id").values_list("id", flat=True))
    new = ids[len(existing) :]
    end = int(now.timestamp()) // 60 * 60
    minutes = np.arange(end - days * 86400, end, 60)
    rng = np.random.default_rng(0)
    with connection.cursor() as cursor:
        for n, sid in enumerate(new):
            phase, level = rng.uniform(0, 86400), rng.uniform(20, 60)
            values = level + 15 * np.sin(2 * np.pi * (minutes + phase) / 86400) + rng.normal(0, 2, len(minutes))
            values += np.linspace(0, rng.uniform(-5, 10), len(minutes))
            buf = io.StringIO()
            for t, v in zip(minutes.tolist(), values.tolist(), strict=True):
                stamp = datetime.fromtimestamp(t, UTC).isoformat()
                buf.write(f"{sid}\t{stamp}\t{v}\t{v}\t{v}\t1\t{v}\n")
            stage = rollups_stage(cursor)  # on TimescaleDB the aggregates are built from samples
            with cursor.cursor.copy(f"COPY {stage} (series_id, bucket, min, max, avg, count, last) FROM STDIN") as copy:
                copy.write(buf.getvalue())
            rollups_from_stage(cursor, table="metrics_rollup_1m")
            if n % 100 == 0:
                log(f"loaded rollups of {n + 1}/{len(new)} series")
    return ids[:count]


def refresh_batch(args: tuple[str, list[int], float]) -> float:
    database_url, ids, now_s = args
    setup_django(database_url)
    from forecasting.services.forecasts import forecasts_refresh

    started = time.perf_counter()
    forecasts_refresh(series_ids=ids, now=datetime.fromtimestamp(now_s, UTC))
    return time.perf_counter() - started


def forecast_run(database_url: str, ids: list[int], workers: int, now: datetime) -> dict:
    batches = [(database_url, ids[i : i + BATCH], now.timestamp()) for i in range(0, len(ids), BATCH)]
    from django.db import connections

    connections.close_all()  # workers open their own connections (a shared one would break)
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        per_batch = list(pool.map(refresh_batch, batches))
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "per_series_ms": round(1000 * sum(per_batch) / len(ids), 2)}


def detection(team, count: int, now: datetime) -> dict:
    from django.db import connection, transaction

    from forecasting.algorithms.detection import Detector
    from forecasting.models import PointScore, SeriesDetector
    from forecasting.services import detector_cache
    from forecasting.services.detection import detect_series
    from metrics.ingest import parse_json
    from metrics.models import Series
    from metrics.selectors import samples_window
    from metrics.services import samples_ingest

    existing = Series.objects.filter(team=team, metric="pipe_latency").count()
    if existing < count:
        Series.objects.bulk_create(
            [Series(team=team, metric="pipe_latency", labels={"pod": f"p{i}"}) for i in range(existing, count)]
        )
    series = list(Series.objects.filter(team=team, metric="pipe_latency").order_by("id")[:count])
    ids = [s.id for s in series]
    # A learned state (300 points of a noisy cycle), the same for every series: realistic size.
    detector = Detector()
    rng = np.random.default_rng(1)
    start = now.timestamp() - 400 * 60  # ends well before the two measured points
    for i in range(300):
        detector.update(start + 60 * i, 50 + 10 * np.sin(i / 40) + rng.normal(0, 1))
    state = detector.to_bytes()
    last = datetime.fromtimestamp(start + 299 * 60, UTC)
    SeriesDetector.objects.filter(series_id__in=ids).delete()
    SeriesDetector.objects.bulk_create(
        [SeriesDetector(series_id=i, state=state, last_ts=last, points=300) for i in ids], batch_size=2000
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM forecasting_pointscore WHERE series_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM metrics_sample WHERE series_id = ANY(%s)", [ids])  # earlier runs' points
    detector_cache.clear()

    def one_round(ts: float, at: datetime) -> tuple[float, float]:
        body = {"series": [{"metric": s.metric, "labels": s.labels, "points": [[ts, 51.0]]} for s in series]}
        samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps(body), max_points=len(series)))
        read_start = time.perf_counter()
        for i in range(0, len(ids), DETECT_CHUNK):
            samples_window(series_ids=ids[i : i + DETECT_CHUNK], start=at - timedelta(seconds=40), end=at)
        read_s = time.perf_counter() - read_start
        started, cpu = time.perf_counter(), time.process_time()
        points = 0
        for i in range(0, len(ids), DETECT_CHUNK):
            with transaction.atomic():  # as a Celery task: its commit puts the detectors in the cache
                points += detect_series(series_ids=ids[i : i + DETECT_CHUNK], now=at).points
        assert points == len(ids), f"scored {points} points for {len(ids)} series"
        cpu_s[0] = time.process_time() - cpu
        return time.perf_counter() - started, read_s

    cpu_s = [0.0]  # CPU time of this (worker) process in the last round; the database's is not in it

    # First point: a worker that just started (loads and saves every state); then the usual case.
    cold, _ = one_round(now.timestamp() - 60, now - timedelta(seconds=30))
    warm, read_s = one_round(now.timestamp() - 30, now)
    assert PointScore.objects.filter(series_id__in=ids).count() == 2 * len(ids)
    return {
        "series": len(ids),
        "cold_worker_s": round(cold, 3),
        "seconds": round(warm, 3),
        "per_series_us": round(1e6 * warm / len(ids), 1),
        "worker_cpu_s": round(cpu_s[0], 3),
        "load_average_1m": round(__import__("os").getloadavg()[0], 2),
        "baseline_read_only_s": round(read_s, 3),
        "ratio_to_read": round(warm / read_s, 2),
        "state_bytes": len(state),
        "cached_detectors": detector_cache.size(),
        "goal_s_per_core": 1.0,
        "met": warm <= 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--forecast-series", type=int, default=1000)
    parser.add_argument("--detect-series", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    from core.teams.services import team_get_or_create
    from forecasting.models import Forecast, ForecastModel
    from forecasting.receivers import detect_on_ingest
    from metrics import storage
    from metrics.signals import samples_ingested

    samples_ingested.disconnect(detect_on_ingest)  # the bench calls the services itself
    from hive_ops.celery import tune_gc

    tune_gc()  # as in a Celery worker process
    from alerts.receivers import evaluate_on_ingest

    samples_ingested.disconnect(evaluate_on_ingest)
    with connection.cursor() as cursor:
        storage.layout_prepare(cursor, days_back=2, days_ahead=1)
    team = team_get_or_create(slug="pipebench", name="Pipeline bench")[0]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    result: dict = {"bench": "pipeline", "workers": args.workers}
    if args.forecast_series:
        ids = load_rollups(team, args.forecast_series, args.days, now)
        ForecastModel.objects.filter(series_id__in=ids).delete()
        Forecast.objects.filter(series_id__in=ids).delete()
        log("forecast refresh with selection …")
        first = forecast_run(args.database_url, ids, args.workers, now)
        log("forecast refresh with stored winners …")
        second = forecast_run(args.database_url, ids, args.workers, now + timedelta(minutes=15))
        made = Forecast.objects.filter(series_id__in=ids, kind="short").count()
        models = list(ForecastModel.objects.filter(series_id__in=ids).values_list("model", flat=True))
        result["forecast"] = {
            "series": len(ids),
            "days_of_rollups": args.days,
            "with_selection": first,
            "with_stored_winner": second,
            "forecasts_stored": made,
            "distinct_models": len(set(models)),
            "median_model_name_len": statistics.median(len(m) for m in models) if models else 0,
            "goal_s": 300,
            "met": first["wall_s"] <= 300 and second["wall_s"] <= 300,
        }
    if args.detect_series:
        log("detection …")
        result["detect"] = detection(team, args.detect_series, now)
    emit(result, args.json)


if __name__ == "__main__":
    main()
