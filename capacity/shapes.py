"""An independent set of utilization shapes with a known time to exhaustion, for scoring the
capacity forecast by cross-validation across shapes (`bench/capacity_eval.py`) and for tests.

Written apart from `capacity/synthetic.py` (which the first method was tuned on) and shaped after
what real resources do: log rotation and compaction (periodic resets with a trend underneath),
growth that speeds up without a jump, business-hours load with a weekend dip, memory leaks with
restarts, counters that wrap, a holiday in a weekly cycle, clean-ups, saturation under a ceiling,
flat and falling usage.

Each case is sampled every 1 or 5 minutes over 14–28 days with wandering (AR(1)) noise, single
spikes and gaps, then turned into hourly means the way the rollups store them (stamped at the
start of the hour, the hour in progress included). `truth_s` is when the noise-free curve first
reaches the limit after `now` (inf: never within a year). Pure numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DAY = 86400.0
HOUR = 3600.0
LIMIT = 100.0
NOW = 1_790_000_000.0 + 1234.0  # a Monday, 20 min past an hour: the last bucket is partial
SHAPES = (
    "rotation_daily",
    "rotation_weekly",
    "rate_change",
    "business_hours",
    "memory_leak",
    "daily_sine",
    "irregular_resets",
    "weekly_holiday",
    "step_down",
    "saturation",
    "counter_wrap",
    "flat",
    "falling",
)
NEVER = ("saturation", "flat", "falling")  # shapes whose truth is "not within a year"


@dataclass(frozen=True)
class Case:
    shape: str
    seed: int
    ts: np.ndarray  # hour starts (as stored), the last one the hour in progress
    values: np.ndarray  # hourly means
    truth_s: float
    now: float
    limit: float = LIMIT


def sawtooth_age(t: np.ndarray, period: float, phase: float) -> np.ndarray:
    """Days since the last periodic reset (resets at phase + k × period)."""
    return np.mod(t - phase, period)


def business_profile(t: np.ndarray, start_h: float, end_h: float) -> np.ndarray:
    """0–1: a plateau over working hours on weekdays (1-hour ramps), 0 at night and at weekends."""
    epoch_days = t + NOW / DAY
    hour = np.mod(epoch_days, 1.0) * 24
    weekday = np.mod(np.floor(epoch_days) + 3, 7)  # 1970-01-01 was a Thursday; 0 = Monday
    up = np.clip(hour - start_h + 1, 0, 1)
    down = np.clip(end_h + 1 - hour, 0, 1)
    return np.minimum(up, down) * (weekday < 5)


def _rotation(rng, period: float) -> Callable:
    tte = rng.uniform(8, 40)
    tooth = rng.uniform(10, 20)
    phase = rng.uniform(0, period)
    peak_now = rng.uniform(45, 70)
    slope = (LIMIT - peak_now) / tte
    return lambda t: peak_now - tooth + slope * t + tooth * sawtooth_age(t, period, phase) / period


def _rate_change(rng) -> Callable:
    change = -rng.uniform(2, 7)
    level = rng.uniform(45, 65)
    fast = rng.uniform(1.5, 4.0)
    slow = fast / rng.uniform(2, 4)
    return lambda t: level + np.where(t < change, slow * (t - change) + fast * change, fast * t)


def _business(rng) -> Callable:
    base, amp = rng.uniform(25, 45), rng.uniform(15, 30)
    slope = (LIMIT - base - amp) / rng.uniform(6, 45)
    start_h, end_h = rng.uniform(7, 9), rng.uniform(16, 18)
    return lambda t: base + slope * t + amp * business_profile(t, start_h, end_h)


def _leak(rng) -> Callable:
    level = rng.uniform(40, 70)
    slope = (LIMIT - level) / rng.uniform(5, 40)
    restart = -min(rng.uniform(4, 12), (level - 10) / slope)
    boot = level + slope * restart
    before = boot + rng.uniform(15, 35)
    return lambda t: np.where(t < restart, before + slope * (t - restart), boot + slope * (t - restart))


def _sine(rng) -> Callable:
    level, amp = rng.uniform(40, 60), rng.uniform(5, 15)
    slope, phase = (LIMIT - level - amp) / rng.uniform(5, 40), rng.uniform(0, 1)
    return lambda t: level + slope * t + amp * np.sin(2 * np.pi * (t + phase))


def _irregular(rng) -> Callable:
    resets = np.sort(-rng.uniform(0.5, 13, size=rng.integers(2, 5)))
    resets = resets[np.r_[True, np.diff(resets) > 1.0]]
    to = rng.uniform(10, 40, size=len(resets))  # each restart lands at a different level
    slope = rng.uniform(1.0, 4.0)
    to[-1] = min(to[-1], 95 - slope * (0.5 - resets[-1]))  # not full already

    def curve(t):
        y = 20 + slope * (t + 30)
        for at, level in zip(resets, to, strict=True):
            y = np.where(t >= at, level + slope * (t - at), y)
        return y

    return curve


def _holiday(rng) -> Callable:
    base, amp = rng.uniform(30, 50), rng.uniform(10, 20)
    slope = (LIMIT - base - amp) / rng.uniform(6, 45)
    weekdays = [d for d in range(-12, -2) if business_profile(np.array([d + 0.5]), 0.0, 23.0)[0] > 0]
    holiday = float(rng.choice(weekdays))

    def curve(t):
        profile = business_profile(t, 0.0, 23.0)  # whole weekdays busy
        off = (t >= np.floor(holiday + NOW / DAY) - NOW / DAY) & (t < np.floor(holiday + NOW / DAY) + 1 - NOW / DAY)
        return base + slope * t + amp * np.where(off, 0.0, profile)

    return curve


def _step_down(rng) -> Callable:
    at, drop = -rng.uniform(1.5, 8), rng.uniform(15, 30)
    level = rng.uniform(45, 70)
    slope = (LIMIT - level) / rng.uniform(6, 40)
    return lambda t: level + slope * t + np.where(t < at, drop, 0.0)


def _saturation(rng) -> Callable:
    ceiling, floor = rng.uniform(75, 92), rng.uniform(20, 40)
    middle, width = -rng.uniform(9, 15), rng.uniform(0.8, 1.6)
    return lambda t: floor + (ceiling - floor) / (1 + np.exp(-(t - middle) / width))


def _wrap(rng) -> Callable:
    period = rng.uniform(12, 22)  # days for the counter to go from 0 to the limit
    wrapped = -rng.uniform(1.0, 8.0)  # it wrapped this many days ago (and earlier, every period)
    return lambda t: LIMIT * np.where(t < wrapped, np.mod(t - wrapped, period), t - wrapped) / period


def _flat(rng) -> Callable:
    level = rng.uniform(30, 70)
    amp = rng.uniform(0, 8)
    return lambda t: level + amp * np.sin(2 * np.pi * t)


def _falling(rng) -> Callable:
    level, slope = rng.uniform(40, 80), rng.uniform(0.3, 2.0)
    return lambda t: level - slope * t


CURVES = {
    "rotation_daily": lambda rng: _rotation(rng, 1.0),
    "rotation_weekly": lambda rng: _rotation(rng, 7.0),
    "rate_change": _rate_change,
    "business_hours": _business,
    "memory_leak": _leak,
    "daily_sine": _sine,
    "irregular_resets": _irregular,
    "weekly_holiday": _holiday,
    "step_down": _step_down,
    "saturation": _saturation,
    "counter_wrap": _wrap,
    "flat": _flat,
    "falling": _falling,
}


def first_crossing(curve: Callable, limit: float, *, days: float = 365.0) -> float:
    """Seconds after now at which the noise-free curve first reaches the limit, on a 1-minute grid."""
    fine = np.arange(0.0, days * DAY, 60.0)
    over = np.flatnonzero(curve(fine / DAY) >= limit)
    return float(fine[over[0]]) if len(over) else float("inf")


def hourly_means(ts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means per hour stamped at the start of the hour, as the rollups store them."""
    hours = np.floor(ts / HOUR) * HOUR
    starts, index = np.unique(hours, return_inverse=True)
    sums = np.bincount(index, weights=values)
    counts = np.bincount(index)
    return starts, sums / counts


def noise(rng, n: int, step_s: float) -> np.ndarray:
    """AR(1) wander whose correlation time is ~1 hour, whatever the sampling step."""
    sd = rng.uniform(0.5, 2.0)
    rho = float(np.exp(-step_s / rng.uniform(1800, 7200)))
    e = rng.normal(0, sd * np.sqrt(1 - rho**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0, sd)
    for i in range(1, n):  # a plain loop: n is ~40k at most
        out[i] = rho * out[i - 1] + e[i]
    return out


def raw_samples(shape: str, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(timestamps, values, truth_s): the 1- or 5-minute samples before they are averaged, for
    sending through ingest as a user would."""
    rng = np.random.default_rng([seed, SHAPES.index(shape)])
    curve = CURVES[shape](rng)
    step = 60.0 if rng.random() < 0.5 else 300.0
    days = float(rng.uniform(14, 28))
    ts = np.arange(NOW - days * DAY, NOW, step)
    values = curve((ts - NOW) / DAY) + noise(rng, len(ts), step)
    spikes = rng.random(len(ts)) < 0.002
    values[spikes] += rng.uniform(5, 25, spikes.sum())
    keep = np.ones(len(ts), bool)
    for _ in range(int(rng.integers(0, 4))):  # gaps of 1–6 hours (scrape outages)
        start = rng.uniform(ts[0], ts[-1] - DAY)
        keep &= ~((ts >= start) & (ts < start + rng.uniform(1, 6) * HOUR))
    if shape == "counter_wrap":
        values = np.clip(values, 0, LIMIT - 1e-6)
    return ts[keep], values[keep], first_crossing(curve, LIMIT)


def make_case(shape: str, seed: int) -> Case:
    ts, values, truth = raw_samples(shape, seed)
    hours, means = hourly_means(ts, values)
    return Case(shape, seed, hours, means, truth, NOW)


def shape_cases(per_shape: int, *, seed: int = 0, shapes=SHAPES) -> list[Case]:
    return [make_case(shape, seed * 1000 + i) for shape in shapes for i in range(per_shape)]
