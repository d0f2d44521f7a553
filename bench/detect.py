"""Streaming anomaly detection cost: one new point for each of 10,000 series on one core.

Goal (issue goal 3): scoring one new point for each of 10,000 series takes <= 1 s per worker core,
including restoring each series' detector state (`Detector.from_bytes`) and saving it again
(`to_bytes`), as the Celery scoring job does.

Setup (not timed): --templates detectors are warmed up on different synthetic 5-minute series
(daily cycle, noise, a few spikes; --warmup points each) with their models trained once, so the
states are full-size (full ring buffers, seasonal profiles, model tables). The --series states
are copies of these templates.

Timed, --rounds times (the median round is reported):
- detect: for every series, from_bytes -> update(next point) -> to_bytes;
- baseline, same run, same loop shape: a trivial per-series EWMA detector object (a 16-byte
  state restored, updated and saved again). It is the floor any per-series Python state round trip costs on this
  machine today, so `ratio_vs_baseline` is robust to how busy the machine is.
Also: the median cost of one `update` alone (a single detector streaming --update-points points)
and of from_bytes / to_bytes alone, and the state size.

No database, no server: pure CPU in this process. `machine_cpu_pct` (100 = one core) says how busy
the machine was during the timed loops; other people's work inflates the absolute numbers.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np
from _common import emit, log, machine_busy_seconds

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecasting.algorithms.detection import Detector, train_models

STEP = 300.0
START = 1_700_000_000.0
GOAL_S = 1.0
_EWMA = struct.Struct("<2d")


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = START + STEP * np.arange(n)
    level = rng.uniform(5, 500)
    values = level * (1 + 0.3 * np.sin(2 * np.pi * ts / 86400 + rng.uniform(0, 6))) + rng.normal(0, 0.05 * level, n)
    spikes = rng.choice(n, size=max(1, n // 500), replace=False)
    values[spikes] += rng.uniform(3, 8) * 0.05 * level
    return ts, values


def templates(count: int, warmup: int) -> list[tuple[bytes, float, float]]:
    """(state, next ts, next value) per template."""
    out = []
    for seed in range(count):
        ts, values = synthetic(warmup + 1, seed)
        det = Detector()
        for t, v in zip(ts[:-1].tolist(), values[:-1].tolist(), strict=True):
            det.update(t, v)
        det.set_models(train_models(ts[:-1], values[:-1]))
        out.append((det.to_bytes(), float(ts[-1]), float(values[-1])))
    return out


def detect_round(states: list[bytes], points: list[tuple[float, float]]) -> float:
    started = time.perf_counter()
    out = []
    for blob, (t, v) in zip(states, points, strict=True):
        det = Detector.from_bytes(blob)
        det.update(t, v)
        out.append(det.to_bytes())
    return time.perf_counter() - started


class Ewma:
    """The baseline detector: an EWMA z-score with the same from_bytes / update / to_bytes shape."""

    __slots__ = ("mean", "var")

    @classmethod
    def from_bytes(cls, blob: bytes) -> Ewma:
        det = cls.__new__(cls)
        det.mean, det.var = _EWMA.unpack(blob)
        return det

    def update(self, ts: float, value: float) -> float:
        d = value - self.mean
        z = d / (self.var**0.5 + 1e-9)
        self.mean += 0.05 * d
        self.var = 0.95 * (self.var + 0.05 * d * d)
        return z

    def to_bytes(self) -> bytes:
        return _EWMA.pack(self.mean, self.var)


def baseline_round(states: list[bytes], points: list[tuple[float, float]]) -> float:
    started = time.perf_counter()
    out = []
    for blob, (t, v) in zip(states, points, strict=True):
        det = Ewma.from_bytes(blob)
        det.update(t, v)
        out.append(det.to_bytes())
    return time.perf_counter() - started


def update_cost(points: int) -> tuple[float, float]:
    """(median, p99) µs of one update, streaming a single series (models trained as it asks)."""
    ts, values = synthetic(points, seed=10_000)
    det = Detector()
    costs = []
    for i, (t, v) in enumerate(zip(ts.tolist(), values.tolist(), strict=True)):
        started = time.perf_counter()
        det.update(t, v)
        costs.append(time.perf_counter() - started)
        if det.needs_training():
            det.set_models(train_models(ts[: i + 1], values[: i + 1]))
    tail = sorted(costs[points // 5 :])
    return 1e6 * statistics.median(tail), 1e6 * tail[int(0.99 * (len(tail) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON line on stdout (progress on stderr)")
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--templates", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=1500, help="points each template detector has seen")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--update-points", type=int, default=5000)
    args = parser.parse_args()

    log(f"warming up {args.templates} template detectors on {args.warmup} points each")
    temps = templates(args.templates, args.warmup)
    states = [temps[i % len(temps)][0] for i in range(args.series)]
    points = [temps[i % len(temps)][1:] for i in range(args.series)]
    ewma_states = [_EWMA.pack(p[1], 1.0) for p in points]

    log(f"timing {args.rounds} rounds over {args.series} series")
    detect_s, baseline_s = [], []
    busy0, wall0 = machine_busy_seconds(), time.perf_counter()
    for _ in range(args.rounds):
        baseline_s.append(baseline_round(ewma_states, points))
        detect_s.append(detect_round(states, points))
    machine_pct = round(100 * (machine_busy_seconds() - busy0) / (time.perf_counter() - wall0))

    blob = states[0]
    n = 20_000
    started = time.perf_counter()
    for _ in range(n):
        det = Detector.from_bytes(blob)
    from_us = 1e6 * (time.perf_counter() - started) / n
    started = time.perf_counter()
    for _ in range(n):
        det.to_bytes()
    to_us = 1e6 * (time.perf_counter() - started) / n
    log(f"timing {args.update_points} streaming updates of one series")
    upd_median, upd_p99 = update_cost(args.update_points)

    detect, baseline = statistics.median(detect_s), statistics.median(baseline_s)
    emit(
        {
            "series": args.series,
            "detect_s": round(detect, 4),
            "detect_us_per_series": round(1e6 * detect / args.series, 2),
            "series_per_core_s": round(args.series / detect),
            "goal_s": GOAL_S,
            "goal_met": detect <= GOAL_S,
            "baseline_ewma_s": round(baseline, 4),
            "ratio_vs_baseline": round(detect / baseline, 1),
            "update_us_median": round(upd_median, 2),
            "update_us_p99": round(upd_p99, 2),
            "from_bytes_us": round(from_us, 2),
            "to_bytes_us": round(to_us, 2),
            "state_bytes": len(blob),
            "rounds": args.rounds,
            "machine_cpu_pct": machine_pct,
        },
        args.json,
    )


if __name__ == "__main__":
    main()
