"""Cost of the forecaster per series and per model, and the refresh throughput on 2 cores.

Series the size the product uses: 7 days at 5-minute steps (2,016 points, seasons 288/2,016,
24-hour horizon) and 2 years of daily points (730 points, season 7, 365-day horizon). For each
shape: fit+predict time of every candidate, of `select` (daily job) and of `forecast` with a
stored winner (the refresh, which also backtests the winner for its intervals). Baseline in the
same run: seasonal naive fit+predict; costs are also given as ratios to it. Throughput: `--series`
refreshes with the stored winners in a pool of `--workers` processes, extrapolated to 1,000
series (goal: ≤ 300 s on 2 cores). No database, no server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, log
from forecasting.algorithms.forecast import DEFAULT_CANDIDATES, MODELS, forecast, select
from forecasting.algorithms.forecast.prophet_model import available as prophet_available
from forecasting.algorithms.forecast.registry import fit_predict

SHAPES = {
    "5min_7d": {"n": 7 * 288, "seasons": (288, 2016), "horizon": 288},
    "daily_2y": {"n": 730, "seasons": (7,), "horizon": 365},
}


def synthetic(n: int, seasons: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + 0.01 * t + rng.normal(0, 2, n)
    for period in seasons:
        y += 10 * np.sin(2 * np.pi * t / period + rng.uniform(0, 6))
    return y


def timed(fn, repeats: int) -> float:
    """Median seconds of `repeats` calls."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def refresh(job: tuple[np.ndarray, tuple[int, ...], int, str]) -> None:
    y, seasons, horizon, model = job
    forecast(y, horizon=horizon, season=seasons, model=model)


def measure_shape(shape: dict, repeats: int, with_prophet: bool) -> dict:
    y = synthetic(shape["n"], shape["seasons"], 0)
    seasons, horizon = shape["seasons"], shape["horizon"]
    names = [n for n in MODELS if n != "prophet" or with_prophet]
    baseline = timed(lambda: fit_predict("snaive", y, seasons, horizon), repeats * 10)
    models = {}
    for name in names:
        if MODELS[name].min_length(seasons) > len(y):
            continue
        reps = 3 if name == "prophet" else repeats
        seconds = timed(lambda name=name: fit_predict(name, y, seasons, horizon), reps)
        models[name] = {"ms": round(1000 * seconds, 2), "vs_snaive": round(seconds / baseline, 1)}
    selection = select(y, horizon=horizon, season=seasons)
    select_s = timed(lambda: select(y, horizon=horizon, season=seasons), max(1, repeats // 2))
    refresh_s = timed(lambda: forecast(y, horizon=horizon, season=seasons, model=selection.best), repeats)
    return {
        "points": shape["n"],
        "horizon": horizon,
        "baseline_snaive_ms": round(1000 * baseline, 3),
        "models": models,
        "winner": selection.best,
        "select_ms": round(1000 * select_s, 1),
        "select_vs_snaive": round(select_s / baseline, 1),
        "refresh_ms": round(1000 * refresh_s, 1),
        "refresh_vs_snaive": round(refresh_s / baseline, 1),
    }


def throughput(series: int, workers: int) -> dict:
    shape = SHAPES["5min_7d"]
    jobs = []
    for i in range(series):
        y = synthetic(shape["n"], shape["seasons"], i)
        winner = select(y, horizon=shape["horizon"], season=shape["seasons"]).best
        jobs.append((y, shape["seasons"], shape["horizon"], winner))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(refresh, jobs[:workers]))  # warm the workers (imports)
        start = time.perf_counter()
        list(pool.map(refresh, jobs, chunksize=8))
        wall = time.perf_counter() - start
    projected = wall / series * 1000
    return {
        "series": series,
        "workers": workers,
        "wall_s": round(wall, 2),
        "projected_1000_series_s": round(projected, 1),
        "goal_s": 300,
        "within_goal": projected <= 300,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line on stdout (progress on stderr)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--series", type=int, default=200, help="series refreshed in the throughput phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-prophet", action="store_true", help="skip Prophet (about 0.2-1 s per fit)")
    args = parser.parse_args()
    with_prophet = prophet_available() and not args.no_prophet
    result = {"candidates": list(DEFAULT_CANDIDATES)}
    for key, shape in SHAPES.items():
        log(f"timing {key}")
        result[key] = measure_shape(shape, args.repeats, with_prophet)
    log(f"refreshing {args.series} series with {args.workers} workers")
    result["throughput"] = throughput(args.series, args.workers)
    emit(result, args.json)


if __name__ == "__main__":
    main()
