"""Synthetic series for forecasting tests: a daily cycle with noise, sent through the real ingest."""

from __future__ import annotations

import numpy as np

from tests.alerts.factories import ingest


def daily_cycle(start_s: int, end_s: int, step_s: int = 300, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    ts = np.arange(start_s, end_s, step_s, dtype=np.int64)
    rng = np.random.default_rng(seed)
    values = 50 + 20 * np.sin(2 * np.pi * (ts % 86400) / 86400) + rng.normal(0, 1.0, len(ts))
    return ts, values


def send(team, metric: str, labels: dict, ts: np.ndarray, values: np.ndarray, chunk: int = 5000):
    result = None
    for i in range(0, len(ts), chunk):
        points = [[int(t), float(v)] for t, v in zip(ts[i : i + chunk], values[i : i + chunk], strict=True)]
        result = ingest(team, metric, labels, points)
    return result
