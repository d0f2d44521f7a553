"""Range-vector functions of the PromQL subset, on one series' raw samples at many evaluation
times at once. Each returns an array with one value per evaluation time; NaN where Prometheus
would return no sample.

`rate`/`increase` follow Prometheus' extrapolated rate: counter resets are corrected, and the
sampled interval is extrapolated towards the window's edges by at most half an average sample
interval (or to where the counter would have been zero)."""

from __future__ import annotations

import math

import numpy as np

OVER_TIME = (
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "present_over_time",
)
RANGE_FUNCTIONS = ("rate", "irate", "increase", "delta", *OVER_TIME)


def windows(ts: np.ndarray, ends: np.ndarray, range_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Sample index bounds [lo, hi) of the windows (end - range, end] (left-open, as Prometheus)."""
    lo = np.searchsorted(ts, ends - range_s, side="right")
    hi = np.searchsorted(ts, ends, side="right")
    return lo, hi


def extrapolated(ts, vs, start: float, end: float, *, counter: bool, per_second: bool) -> float:
    """Prometheus' extrapolatedRate over the samples of one window (start, end]."""
    if len(ts) < 2:
        return math.nan
    result = float(vs[-1] - vs[0])
    if counter:
        drops = vs[:-1][vs[1:] < vs[:-1]]
        result += float(drops.sum())
    sampled = float(ts[-1] - ts[0])
    to_start = float(ts[0] - start)
    to_end = float(end - ts[-1])
    average = sampled / (len(ts) - 1)
    if counter and result > 0 and vs[0] >= 0:
        to_zero = sampled * (float(vs[0]) / result)
        to_start = min(to_start, to_zero)
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    result *= interval / sampled
    if per_second:
        result /= end - start
    return result


def irate(ts, vs) -> float:
    if len(ts) < 2:
        return math.nan
    last, previous = float(vs[-1]), float(vs[-2])
    change = last if last < previous else last - previous
    interval = float(ts[-1] - ts[-2])
    return change / interval if interval > 0 else math.nan


def apply(name: str, ts: np.ndarray, vs: np.ndarray, ends: np.ndarray, range_s: float) -> np.ndarray:
    """`name` over the window ending at each of `ends` (already shifted by any offset)."""
    lo, hi = windows(ts, ends, range_s)
    count = (hi - lo).astype(np.float64)
    out = np.full(len(ends), np.nan)
    has = count > 0
    if name in ("sum_over_time", "avg_over_time", "count_over_time", "present_over_time"):
        sums = np.concatenate(([0.0], np.cumsum(vs)))
        total = sums[hi] - sums[lo]
        value = {
            "sum_over_time": total,
            "avg_over_time": total / np.where(has, count, 1),
            "count_over_time": count,
            "present_over_time": np.ones_like(count),
        }[name]
        out[has] = value[has]
        return out
    if name == "last_over_time":
        out[has] = vs[hi[has] - 1]
        return out
    for i in np.nonzero(has)[0]:
        out[i] = _one_window(name, ts[lo[i] : hi[i]], vs[lo[i] : hi[i]], ends[i] - range_s, ends[i])
    return out


def _one_window(name: str, wts: np.ndarray, wvs: np.ndarray, start: float, end: float) -> float:
    if name == "rate":
        return extrapolated(wts, wvs, start, end, counter=True, per_second=True)
    if name == "increase":
        return extrapolated(wts, wvs, start, end, counter=True, per_second=False)
    if name == "delta":
        return extrapolated(wts, wvs, start, end, counter=False, per_second=False)
    if name == "irate":
        return irate(wts, wvs)
    if name == "min_over_time":
        return float(np.min(wvs))
    if name == "max_over_time":
        return float(np.max(wvs))
    if name == "stdvar_over_time":
        return float(np.var(wvs))
    if name == "stddev_over_time":
        return float(np.std(wvs))
    raise AssertionError(name)
