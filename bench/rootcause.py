"""Root-cause ranking: accuracy on planted causes (goal 1) and speed over 1,000 series × 24 h (goal 2).

Goal 1: on synthetic incidents with a planted cause (series B shifts 3 minutes before series A
breaches, among 500 unrelated series: random walks, seasonal noise, 5 % with their own shift at a
random minute of the day), B is ranked first in >= 90 % of 100 cases.
Goal 2: correlation analysis over 1,000 series × 24 h answers in <= 2 s, database read included.

Accuracy (`--cases`, default 100, insight.synthetic.make_case seeds 0..cases-1): each case is
ranked by insight.algorithms.rank_candidates on the same window the incident page uses (6 h
baseline + 30 min lead + 30 min after). Baselines in the same run: plain Pearson correlation of
the values with A at lag 0, and the change score alone (no correlation). A harder variant with
10 % of the unrelated series shifting is reported too, and for both the number of cases where an
unrelated series shifted within 5 minutes of B ("ambiguous": no timing can tell them apart).
`--db-cases` (default 3) of the cases are also stored as samples and ranked by the real
insight.selectors.rootcause.

Speed: 1,000 series × 1,440 one-minute samples (a planted 24 h case with 998 unrelated series)
are ingested through metrics.services.samples_ingest and rolled up by rollups_refresh, then
timed in-process (median of `--repeats`): the database read (insight.selectors.grid_load, 1-minute
rollups), the ranking maths, the whole selectors.rootcause call, and a 990 × 10 correlation matrix
(selectors.correlations, lags ±30 min). Baselines in the same run: reading one series' 24 h
(metrics.selectors.query_range at 60 s) and a plain lag-0 correlation of all 999 series with A
(numpy). Data is deleted afterwards unless --keep.

Database: `hiveops_insightbench` (created and migrated when missing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
import orjson
from _common import CpuMeter, check_isolation, emit, ensure_database, log, setup_django, stop_on_signals

DEFAULT_DATABASE_URL = "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops_insightbench"
TEAM = "bench-insight"
BEFORE, SPLIT = 390, 360  # minutes of window before t0, and the split inside it


def accuracy(cases: int, shift_share: float) -> dict:
    from insight import algorithms as alg
    from insight.synthetic import make_case

    hits = plain = change_only = ambiguous = 0
    spent = []
    for seed in range(cases):
        case = make_case(seed, shift_share=shift_share)
        window = case.values[:, case.t0 - BEFORE :]
        began = time.perf_counter()
        ranking = alg.rank_candidates(window[1:], split=SPLIT, target=window[0], max_lag=30)
        spent.append(time.perf_counter() - began)
        hits += ranking.order[0] == 0
        change_only += np.argmax(alg.rank_candidates(window[1:], split=SPLIT).score) == 0
        x = window[1:] - window[1:].mean(axis=1, keepdims=True)
        y = window[0] - window[0].mean()
        plain += np.argmax(np.abs(x @ y) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y) + 1e-12)) == 0
        ambiguous += _ambiguous(case)
    return {
        "cases": cases,
        "hit_rate": float(hits / cases),
        "baseline_plain_correlation_hit_rate": float(plain / cases),
        "baseline_change_only_hit_rate": float(change_only / cases),
        "ambiguous_cases": int(ambiguous),
        "rank_ms_median": round(1000 * statistics.median(spent), 1),
    }


def _ambiguous(case) -> bool:
    """An unrelated shifting series whose shift lies within 5 minutes of B's."""
    from insight.algorithms import step_filter

    b_at = case.t0 - case.lead
    shifting = case.values[[i for i, kind in enumerate(case.kinds) if kind == "shift"]]
    at = np.argmax(np.abs(step_filter(shifting)), axis=1)  # each one's shift minute
    return bool((np.abs(at - b_at) <= 5).any())


def store(team, values: np.ndarray, kinds: list[str], end_s: int, tag: str) -> list:
    from metrics.ingest import parse_json
    from metrics.models import Series
    from metrics.services import samples_ingest

    minutes = values.shape[1]
    ts = (end_s - 60 * (minutes - 1 - np.arange(minutes))).tolist()
    chunk = max(1, 50_000 // minutes)
    for lo in range(0, len(values), chunk):
        body = {"series": []}
        for i, v in enumerate(values[lo : lo + chunk].tolist(), start=lo):
            labels, points = {"run": tag, "row": str(i)}, [*zip(ts, v, strict=True)]
            body["series"].append({"metric": f"bench_{kinds[i]}", "labels": labels, "points": points})
        samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps(body), max_points=60_000))
    by_row = {int(s.labels["row"]): s for s in Series.objects.filter(team=team, labels__run=tag)}
    return [by_row[i] for i in range(len(values))]


def cleanup(team, tag: str) -> None:
    from django.db import connection

    from metrics import storage
    from metrics.models import Series

    ids = list(Series.objects.filter(team=team, labels__run=tag).values_list("id", flat=True))
    with connection.cursor() as cursor:
        tables = ["metrics_sample", "metrics_rollup_dirty"]
        if not storage.timescale_enabled():  # continuous aggregates cannot be written to
            tables += ["metrics_rollup_1m", "metrics_rollup_1h"]
        for table in tables:
            cursor.execute(f"DELETE FROM {table} WHERE series_id = ANY(%s)", [ids])
    Series.objects.filter(id__in=ids).delete()


def db_accuracy(team, db_cases: int) -> dict:
    from insight import selectors
    from insight.synthetic import make_case

    hits = 0
    for seed in range(db_cases):
        hit = False
        case = make_case(seed, minutes=BEFORE + 30)
        tag = f"acc-{seed}-{int(time.time())}"
        end_s = int(time.time()) // 60 * 60
        series = store(team, case.values, case.kinds, end_s, tag)
        at = datetime.fromtimestamp(end_s - 60 * 30, UTC)
        try:
            result = selectors.rootcause(
                candidates=series, start=at - td(minutes=BEFORE), end=at + td(minutes=30), at=at, target=series[0]
            )
            hit = bool(result.items[0]["series"] == str(series[1].uid))
            hits += hit
        finally:
            cleanup(team, tag)
        log(f"db case {seed}: {'hit' if hit else 'miss'} ({result.seconds:.2f} s)")
    return {"db_cases": db_cases, "db_hit_rate": hits / db_cases if db_cases else None}


def speed(team, repeats: int, database: str, keep: bool = False) -> dict:
    from insight import algorithms as alg
    from insight import selectors
    from insight.synthetic import make_case
    from metrics.selectors import query_range
    from metrics.services import rollups_refresh

    case = make_case(7, unrelated=998, minutes=1440)
    tag = f"speed-{int(time.time())}"
    end_s = (int(time.time()) // 3600 - 1) * 3600  # whole hours, so the 1-minute rollups cover all of it
    began = time.perf_counter()
    series = store(team, case.values, case.kinds, end_s - 60, tag)
    load_s = time.perf_counter() - began
    for _ in rollups_refresh():
        pass
    log(f"stored and rolled up {case.values.size:,} samples in {time.perf_counter() - began:.1f} s")
    end = datetime.fromtimestamp(end_s, UTC)
    start = end - td(hours=24)
    at = datetime.fromtimestamp(end_s - 60 * 30, UTC)
    ids = [s.id for s in series]
    timings: dict[str, list[float]] = {k: [] for k in ("read", "compute", "rootcause", "matrix", "one", "plain")}
    try:
        with CpuMeter(server_pid=None, dbname=database) as meter:
            for _ in range(repeats):
                t = time.perf_counter()
                grid = selectors.grid_load(series_ids=ids, start=start, end=end)
                timings["read"].append(time.perf_counter() - t)
                split = grid.values.shape[1] - 60
                t = time.perf_counter()
                filled = alg.fill_gaps(grid.values)
                ranking = alg.rank_candidates(filled[1:], split=split, target=filled[0], max_lag=30)
                timings["compute"].append(time.perf_counter() - t)
                t = time.perf_counter()
                result = selectors.rootcause(candidates=series, start=start, end=end, at=at, target=series[0])
                timings["rootcause"].append(time.perf_counter() - t)
                t = time.perf_counter()
                selectors.correlations(
                    rows=series[:990], cols=series[990:], start=start, end=end, max_lag_min=30, method="diff"
                )
                timings["matrix"].append(time.perf_counter() - t)
                t = time.perf_counter()
                query_range(series_id=ids[0], start_s=int(start.timestamp()), end_s=end_s, step=60, agg="avg")
                timings["one"].append(time.perf_counter() - t)
                t = time.perf_counter()
                x = filled[1:] - filled[1:].mean(axis=1, keepdims=True)
                y = filled[0] - filled[0].mean()
                np.abs(x @ y) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y))
                timings["plain"].append(time.perf_counter() - t)
    finally:
        if not keep:
            cleanup(team, tag)
    med = {k: statistics.median(v) for k, v in timings.items()}
    return {
        "series": len(ids),
        "minutes": grid.values.shape[1],
        "source": grid.source,
        "load_and_rollup_s": round(load_s, 1),
        "read_s": round(med["read"], 3),
        "compute_s": round(med["compute"], 3),
        "rootcause_total_s": round(med["rootcause"], 3),
        "matrix_990x10_s": round(med["matrix"], 3),
        "goal_2_met": bool(med["rootcause"] <= 2.0),
        "planted_cause_first_24h": result.items[0]["series"] == str(series[1].uid),
        "planted_cause_rank_compute": int(np.flatnonzero(ranking.order == 0)[0]) + 1,
        "baseline_one_series_read_s": round(med["one"], 4),
        "baseline_plain_corr_s": round(med["plain"], 4),
        "rootcause_vs_one_series_read": round(med["rootcause"] / med["one"], 1),
        "compute_vs_plain_corr": round(med["compute"] / med["plain"], 1),
        **meter.report(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON line on stdout")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--db-cases", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the 1,000-series data set afterwards")
    args = parser.parse_args()
    check_isolation(args.database_url, 8100)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")  # never the dev server's db 0
    stop_on_signals()
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    from core.teams.services import team_get_or_create
    from metrics import storage

    with connection.cursor() as cursor:
        storage.layout_prepare(cursor, days_back=3, days_ahead=1)
    team = team_get_or_create(slug=TEAM, name="Bench insight")[0]
    # Detection and rule evaluation of the stored points are not what is measured: no tasks.
    from alerts.receivers import evaluate_on_ingest
    from forecasting.receivers import detect_on_ingest
    from metrics.signals import samples_ingested

    samples_ingested.disconnect(detect_on_ingest)
    samples_ingested.disconnect(evaluate_on_ingest)

    log(f"goal 1: {args.cases} cases")
    result: dict = {"goal_1": accuracy(args.cases, 0.05)}
    result["goal_1"]["goal_met"] = bool(result["goal_1"]["hit_rate"] >= 0.9)
    log("harder variant: 10 % of the unrelated series shift")
    result["goal_1_harder_10pct_shifts"] = accuracy(args.cases, 0.10)
    result["goal_1"].update(db_accuracy(team, args.db_cases))
    if not args.skip_speed:
        log("goal 2: 1,000 series × 24 h")
        result["goal_2"] = speed(team, args.repeats, args.database_url.rsplit("/", 1)[1], args.keep)
    if args.json:
        emit(result, True)
    else:
        for section, values in result.items():
            print(section)
            emit(values, False)


if __name__ == "__main__":
    main()
