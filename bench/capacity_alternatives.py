"""Issue 22: does a well-kept library forecast the shapes better? statsforecast's MSTL (daily and
weekly seasons, AutoETS trend) against capacity's own method, on the same cases from
`capacity/shapes.py` (seed `--seed`, horizon 90 days). p50 = the MSTL mean's first crossing of
the limit; p10 / p90 = the crossings of its 80 % interval's upper / lower bound. Prints JSON:
both methods' share within 10 % and covered, per shape and overall, and ms per fit.

    nice -n 5 .venv/bin/python bench/capacity_alternatives.py --cases 4
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.capacity_eval import HORIZON, forecast, scored
from capacity import calculations as calc
from capacity.shapes import SHAPES, shape_cases

HOUR = 3600.0


def first_crossing(values: np.ndarray, limit: float) -> float:
    over = np.flatnonzero(values >= limit)
    return float((over[0] + 1) * HOUR) if len(over) else np.inf


def mstl_forecast(case) -> tuple[float, float, float]:
    from statsforecast.models import MSTL, AutoETS

    grid = np.arange(case.ts[0], case.ts[-1] + 1, HOUR)
    y = np.interp(grid, case.ts, case.values)  # MSTL needs a regular grid: gaps interpolated
    seasons = [24, 168] if len(y) >= 2 * 168 else [24]
    model = MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model.forecast(y=y, h=int(HORIZON * 24), level=[80])
    return (
        first_crossing(out["hi-80"], case.limit),
        first_crossing(out["mean"], case.limit),
        first_crossing(out["lo-80"], case.limit),
    )


def summary(cases, results) -> dict:
    per: dict[str, list] = {}
    for case, r in zip(cases, results, strict=True):
        per.setdefault(case.shape, []).append(tuple(map(bool, scored(*r, case.truth_s))))
    flat = [x for v in per.values() for x in v]
    return {
        "within": round(float(np.mean([w for w, _ in flat])), 3),
        "covered": round(float(np.mean([c for _, c in flat])), 3),
        "by_shape": {s: [round(float(np.mean([x[i] for x in v])), 2) for i in (0, 1)] for s, v in per.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=4)
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    cases = shape_cases(args.cases, seed=args.seed, shapes=SHAPES)
    mstl_forecast(cases[0])  # numba compiles on first use: not timed
    timings, results = {}, {}
    for name, fn in (("mstl_autoets", mstl_forecast), ("capacity", lambda c: forecast(c, calc.SETTINGS))):
        started = time.perf_counter()
        results[name] = [fn(c) for c in cases]
        timings[name] = round(1000 * (time.perf_counter() - started) / len(cases), 1)
        print(f"{name}: {timings[name]} ms per fit", file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "capacity_alternatives",
                "cases": len(cases),
                "seed": args.seed,
                **{name: {**summary(cases, r), "ms_per_fit": timings[name]} for name, r in results.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
