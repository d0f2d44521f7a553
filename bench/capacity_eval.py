"""Capacity forecasts on shapes real resources have, scored by cross-validation across shapes
(issue 22, goal 1). No database.

The cases come from `capacity/shapes.py` (written apart from `capacity/synthetic.py`, which the
first method was tuned on): 13 shapes × `--cases`, 14–28 days at 1 or 5 minutes with noise, gaps
and spikes, turned into hourly means stamped at the start of the hour as the rollups do, then
moved to mid-bucket as `capacity.selectors.history_many` does.

Cross-validation: the shapes are split into `--folds` groups; for each group, the settings
(`Settings.inflate`, `Settings.hinge_prior`, `Settings.alone_days`) are chosen on the OTHER groups' shapes, from a small
grid, by the smaller margin over the goal's two bars (0.85 within 10 %, 0.80 covered), minus a
penalty for any training shape under 0.6, ties going to the better worst training shape, then
to the higher coverage; the held-out group is scored with them. Every case is answered with the
resources' default 90-day horizon. Reported: held-out figures overall and per shape, false
"will fill" (p50 within 90 days) on flat and falling series and, apart, on saturation, the chosen
settings per fold, and baselines on the same cases (a line over the whole history, a line over
the last 24 hours). Goal: ≥ 0.85 within 10 %, ≥ 0.80 covered, ≥ 0.6 for both on every shape.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from capacity import calculations as calc
from capacity.analysis.history import mid_bucket
from capacity.shapes import NEVER, SHAPES, shape_cases

DAY = 86400.0
HORIZON = 90.0  # the resources' default horizon: "not within 90 days" is right for a truth of never
GRID = {"inflate": (1.6, 2.2, 3.0, 4.0), "hinge_prior": (0.1, 0.3), "alone_days": (5.0, 10.0)}


def scored(p10: float, p50: float, p90: float, truth: float) -> tuple[bool, bool]:
    """(p50 within 10 % of the truth, truth inside p10–p90); inf means "not within the horizon",
    which is right for a truth of inf."""
    if not np.isfinite(truth):
        return not np.isfinite(p50), not np.isfinite(p90)
    return abs(p50 - truth) <= 0.1 * truth, p10 <= truth <= p90


def forecast(case, settings) -> tuple[float, float, float]:
    ts = mid_bucket(case.ts, end=case.now)
    fit = calc.fit_growth(
        ts, case.values, now=case.now, days=HORIZON, limit=case.limit, seed=case.seed, settings=settings
    )
    if fit is None:
        return np.inf, np.inf, np.inf
    ex = calc.exhaustion(fit, limit=case.limit, horizon_days=HORIZON)
    return tuple(np.inf if v is None else v for v in (ex.p10, ex.p50, ex.p90))


def line_eta(case, days: float | None) -> float:
    ts = mid_bucket(case.ts, end=case.now)
    keep = ts >= case.now - days * DAY if days else np.ones(len(ts), bool)
    slope, intercept = np.polyfit(ts[keep] - case.now, case.values[keep], 1)
    eta = (case.limit - intercept) / slope if slope > 0 else np.inf
    return eta if eta <= HORIZON * DAY else np.inf


def table(cases, results) -> dict:
    """Per shape and overall: share within 10 %, share covered."""
    per: dict[str, list] = {}
    for case, (p10, p50, p90) in zip(cases, results, strict=True):
        per.setdefault(case.shape, []).append(tuple(map(bool, scored(p10, p50, p90, case.truth_s))))
    shapes = {s: (float(np.mean([w for w, _ in v])), float(np.mean([c for _, c in v]))) for s, v in per.items()}
    flat = [x for v in per.values() for x in v]
    return {
        "within": float(np.mean([w for w, _ in flat])),
        "covered": float(np.mean([c for _, c in flat])),
        "shapes": shapes,
    }


def objective(t: dict) -> tuple[float, float, float]:
    """The goal's own terms: the smaller margin over its two bars (0.85 within 10 %, 0.80
    covered), less any training shape's shortfall under 0.6 on either; ties (the within-10 %
    margin is usually the smaller, and `inflate` hardly moves the p50) go to the better worst
    training shape, then to the higher coverage, not to the first setting of the grid."""
    short = sum(max(0.0, 0.6 - w) + max(0.0, 0.6 - c) for w, c in t["shapes"].values())
    worst = min(min(w, c) for w, c in t["shapes"].values())
    return round(min(t["within"] - 0.85, t["covered"] - 0.80) - short, 9), worst, t["covered"]


def main() -> None:
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=8, help="cases per shape (default 8)")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    limit = threadpool_limits(limits=1, user_api="blas")
    started = time.perf_counter()
    cases = shape_cases(args.cases, seed=args.seed)
    settings = [calc.Settings(**dict(zip(GRID, values, strict=True))) for values in itertools.product(*GRID.values())]
    results = {}
    fits = 0
    for s in settings:
        results[s] = [forecast(c, s) for c in cases]
        fits += len(cases)
        done = table(cases, results[s])
        print(f"{s}: {done['within']:.3f} {done['covered']:.3f} {time.perf_counter() - started:.0f}s", file=sys.stderr)
    fold_of = {shape: i % args.folds for i, shape in enumerate(SHAPES)}
    held, chosen = [None] * len(cases), []
    for fold in range(args.folds):
        train = [i for i, c in enumerate(cases) if fold_of[c.shape] != fold]
        test = [i for i, c in enumerate(cases) if fold_of[c.shape] == fold]
        best = max(settings, key=lambda s: objective(table([cases[i] for i in train], [results[s][i] for i in train])))
        chosen.append({"fold": fold, **{k: getattr(best, k) for k in GRID}})
        for i in test:
            held[i] = results[best][i]
    t = table(cases, held)

    def false_fills(shapes) -> tuple[int, int]:
        """(cases whose p50 says "full within 90 days", cases) among shapes that never fill."""
        rows = [r for c, r in zip(cases, held, strict=True) if c.shape in shapes]
        return int(sum(bool(np.isfinite(p50) and p50 <= 90 * DAY) for _, p50, _ in rows)), len(rows)

    false_fill, flat_cases = false_fills(("flat", "falling"))
    saturated, saturation_cases = false_fills(tuple(s for s in NEVER if s not in ("flat", "falling")))
    default = table(cases, results[calc.SETTINGS]) if calc.SETTINGS in results else None
    whole = table(cases, [(np.inf, line_eta(c, None), np.inf) for c in cases])
    last = table(cases, [(np.inf, line_eta(c, 1.0), np.inf) for c in cases])
    limit.restore_original_limits()
    elapsed = time.perf_counter() - started
    result = {
        "bench": "capacity_eval",
        "cases": len(cases),
        "seed": args.seed,
        "held_out_p50_within_10pct": round(t["within"], 3),
        "held_out_p10_p90_coverage": round(t["covered"], 3),
        "by_shape": {s: {"within": round(w, 2), "covered": round(c, 2)} for s, (w, c) in t["shapes"].items()},
        "worst_shape_within": round(min(w for w, _ in t["shapes"].values()), 2),
        "worst_shape_covered": round(min(c for _, c in t["shapes"].values()), 2),
        "false_will_fill_flat_falling": f"{false_fill} of {flat_cases}",
        "false_will_fill_saturation": f"{saturated} of {saturation_cases}",
        "chosen_settings": chosen,
        "shipped_settings": {k: getattr(calc.SETTINGS, k) for k in GRID},
        "shipped_settings_all_shapes_within": round(default["within"], 3) if default else None,
        "shipped_settings_all_shapes_covered": round(default["covered"], 3) if default else None,
        "baseline_line_whole_history_within_10pct": round(whole["within"], 3),
        "baseline_line_last_24h_within_10pct": round(last["within"], 3),
        "goal1_met": bool(t["within"] >= 0.85)
        and t["covered"] >= 0.8
        and all(w >= 0.6 and c >= 0.6 for w, c in t["shapes"].values())
        and false_fill == 0,
        "ms_per_fit": round(1000 * elapsed / max(fits, 1), 1),
        "seconds": round(elapsed, 1),
    }
    print(__import__("json").dumps(result))


if __name__ == "__main__":
    main()
