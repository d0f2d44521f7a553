"""Synthetic utilization series with a known time to exhaustion, for tests, the calibration
benchmark and the demo. Pure numpy. Every case is hourly, ends at `now` and has a limit of 100;
`truth_s` is when the noise-free curve first reaches the limit (seconds after `now`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY = 86400.0
KINDS = ("linear", "exponential", "seasonal", "step", "reset")


@dataclass(frozen=True)
class Case:
    kind: str
    ts: np.ndarray
    values: np.ndarray
    truth_s: float
    limit: float = 100.0


def _curve(kind: str, t_days: np.ndarray, p: dict) -> np.ndarray:
    """The noise-free value at t (days relative to now)."""
    if kind == "exponential":
        return p["level"] * np.exp(p["rate"] * t_days)
    y = p["level"] + p["slope"] * t_days
    if kind == "seasonal":
        y = (
            y
            + p["amplitude"] * np.sin(2 * np.pi * (t_days + p["phase"]))
            + p["weekly"] * np.sin(2 * np.pi * t_days / 7)
        )
    if kind == "step":
        y = y - np.where(t_days < p["change"], p["jump"], 0.0)
    if kind == "reset":
        # A leak: before the restart the level was `jump` higher on the same slope.
        y = y + np.where(t_days < p["change"], p["jump"], 0.0)
    return y


def make_case(kind: str, seed: int, *, now: float = 1_767_225_600.0, history_days: float = 30.0) -> Case:
    rng = np.random.default_rng(seed)
    tte = float(rng.uniform(3, 60))  # days until the limit
    level = float(rng.uniform(35, 70))
    p = {"level": level, "slope": (100 - level) / tte}
    noise = float(rng.uniform(0.5, 2.0))
    if kind == "exponential":
        p["rate"] = float(np.log(100 / level) / tte)
    elif kind == "seasonal":
        p["amplitude"] = float(rng.uniform(3, 10))
        p["weekly"] = float(rng.uniform(0, 3))
        p["phase"] = float(rng.uniform(0, 1))
    elif kind == "step":
        p["change"] = -float(rng.uniform(0.5, 20))
        p["jump"] = float(rng.uniform(10, 25))
    elif kind == "reset":
        p["change"] = -float(rng.uniform(1 / 24, 8))
        p["jump"] = float(rng.uniform(15, min(30.0, 95 - level)))
    n = int(history_days * 24)
    ts = now - (n - 1 - np.arange(n)) * 3600.0  # hourly, the last point at `now`
    t_days = (ts - now) / DAY
    # AR(1) noise: real utilization wanders, it is not white.
    e = rng.normal(0, noise, len(ts))
    for i in range(1, len(e)):
        e[i] += 0.5 * e[i - 1]
    values = _curve(kind, t_days, p) + e
    fine = np.arange(0, 400 * DAY, 300.0) / DAY
    over = np.flatnonzero(_curve(kind, fine, p) >= 100)
    truth = float(fine[over[0]] * DAY) if len(over) else float("inf")
    return Case(kind, ts, values, truth)


def cases(count_per_kind: int, *, seed: int = 0, kinds=KINDS) -> list[Case]:
    return [
        make_case(kind, seed * 100_000 + i * len(kinds) + k)
        for i in range(count_per_kind)
        for k, kind in enumerate(kinds)
    ]
