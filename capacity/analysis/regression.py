"""Least squares for the growth models and the columns they are built from: segment levels,
time, a hinge (growth-rate change), the age of the current tooth (periodic resets), and the
daily and weekly cycle (weekdays and weekends apart, since load is rarely sine-shaped)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from capacity.analysis.types import DAY

FINE_DAYS = 90.0
COARSE_POINTS = 1500
WEEKEND_STEP_H = 2  # the weekend's own profile, one value every 2 hours
RHO_CAP = 0.8
BLOCK_POINTS = 24


def seasonal_terms(t_days: np.ndarray) -> tuple[bool, bool | str]:
    """(daily, weekly): cycles covered often enough by data sampled finely enough; weekly is
    "sine" when two whole weeks are covered (under that a weekly sine is a trend), True when
    only the weekend terms can be fitted."""
    if len(t_days) < 4:
        return False, False
    span = float(t_days[-1] - t_days[0])
    spacing = float(np.median(np.diff(t_days)))
    daily = span >= 2 and spacing <= 0.125
    if not daily or span < 9:
        return daily, False
    return daily, "sine" if span >= 14 else True


def seasonal_columns(epoch_days: np.ndarray, daily: bool, weekly: bool | str) -> list[np.ndarray]:
    """The hour-of-day profile as a piecewise-linear curve through one value per hour (hat
    functions centred on each hour's middle, where the hourly means sit; the last one left out,
    the level carries it), so a business day's plateau and ramps, or a rotation's drop, are
    followed without the overshoot of a few sines that put peaks too high and crossings days
    early. With `weekly`, the weekend's departure from that profile (every WEEKEND_STEP_H hours,
    calendar days in UTC so the weekend is where it really is), and from two weeks a weekly sine."""
    cols = hats(epoch_days, 24)[:-1] if daily else []
    if weekly:
        weekend = (np.mod(np.floor(epoch_days) + 3, 7) >= 5).astype(float)
        cols.extend(weekend * h for h in hats(epoch_days, 24 // WEEKEND_STEP_H))
        if weekly == "sine":
            week = 2 * np.pi * epoch_days / 7
            cols.extend([np.sin(week), np.cos(week)])
    return cols


def hats(epoch_days: np.ndarray, knots: int) -> list[np.ndarray]:
    """`knots` periodic hat functions over the day, the k-th peaking at the middle of the k-th
    part of the day and falling to zero at its neighbours' middles (they sum to one)."""
    u = np.mod(epoch_days, 1.0) * knots - 0.5
    lower = np.floor(u)
    share = u - lower
    lower = np.mod(lower, knots).astype(int)
    upper = np.mod(lower + 1, knots)
    out = np.zeros((knots, len(epoch_days)))
    index = np.arange(len(epoch_days))
    out[lower, index] = 1.0 - share
    out[upper, index] += share
    return list(out)


def seasonal_that_pays(
    base: np.ndarray, epoch_days: np.ndarray, y: np.ndarray, daily: bool, weekly: bool | str
) -> tuple[bool, bool | str]:
    """The one of no cycle, a daily one, weekend terms and both whose AIC (sample size
    discounted for autocorrelation, as the model weights do) is lowest: a profile of 23 or more
    values fitted to noise only adds variance, and weekend terms over the last days of a short
    segment trade off against its growth rate. Nested designs share a QR: the squared error of
    each leading block of columns is what is left of y's after its part of Qᵀy."""
    if not daily and not weekly:
        return False, False
    day = seasonal_columns(epoch_days, True, False) if daily else []
    week = seasonal_columns(epoch_days, False, weekly) if weekly else []
    total = float(y @ y)
    sse: dict[tuple[bool, bool | str], float] = {}
    orders = [(day, week, (True, False), (True, weekly))]
    if week:
        orders.append((week, day, (False, weekly), (True, weekly)))
    for first, second, first_key, both_key in orders:
        x = np.column_stack([base, *first, *second])
        r = np.linalg.qr(np.column_stack([x, y]), mode="r")  # its last column holds Qᵀy
        qty = r[: x.shape[1], -1]
        explained = np.cumsum(qty**2)
        k = base.shape[1]
        sse[(False, False)] = total - float(explained[k - 1])
        sse[first_key] = total - float(explained[k + len(first) - 1])
        if second:
            sse[both_key] = total - float(explained[-1])
    beta = np.linalg.lstsq(r[: x.shape[1], : x.shape[1]], qty, rcond=None)[0]
    n = effective_n(y - x @ beta)  # residuals of the richest design (the last one)
    width = {(False, False): 0, (True, False): len(day), (False, weekly): len(week)}
    width[(True, weekly)] = len(day) + len(week)
    floor = 1e-12 * max(1.0, total / len(y))
    return min(sse, key=lambda o: n * math.log(max(sse[o], 0.0) / len(y) + floor) + 2 * width[o])


def block_indices(n: int, samples: int, block: int, rng: np.random.Generator) -> np.ndarray:
    block = max(1, min(block, n))
    blocks = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, size=(samples, blocks))
    return (starts[:, :, None] + np.arange(block)).reshape(samples, -1)[:, :n]


@dataclass
class Model:
    """A least-squares fit of the design; `log` fits log(y) weighted by y², which approximates
    least squares on the original scale, so values near zero do not dominate."""

    log: bool
    pinv: np.ndarray
    root_w: np.ndarray
    floor: float
    beta: np.ndarray
    yhat: np.ndarray

    def transform(self, y: np.ndarray) -> np.ndarray:
        return np.log(np.maximum(y, self.floor)) if self.log else y

    def refit(self, ys: np.ndarray) -> np.ndarray:
        """Coefficients for each row of ys (same design and weights)."""
        return (self.transform(ys) * self.root_w) @ self.pinv.T


def effective_n(residuals: np.ndarray) -> float:
    """Sample size discounted for autocorrelation (AR(1) approximation): neighbouring hours of a
    utilization series are not independent evidence for one growth model over another."""
    n = len(residuals)
    if n < 3:
        return float(n)
    r = residuals - residuals.mean()
    # Capped: residuals that wander for days mean a model that does not fit, not one observation.
    rho = float(np.clip(np.dot(r[1:], r[:-1]) / max(np.dot(r, r), 1e-300), 0.0, RHO_CAP))
    n_eff = n * (1 - rho) / (1 + rho)
    # Wander over days is dependence too, and one lag does not see it: the spread of the means
    # of consecutive BLOCK_POINTS (a day of hours) against what independent points would give.
    blocks = n // BLOCK_POINTS
    if blocks >= 4:
        means = r[: blocks * BLOCK_POINTS].reshape(blocks, BLOCK_POINTS).mean(axis=1)
        inflation = BLOCK_POINTS * float(np.var(means)) / max(float(np.var(r)), 1e-300)
        n_eff = min(n_eff, n / max(1.0, inflation))
    return n_eff


def pseudo_inverse(x: np.ndarray) -> np.ndarray:
    """(XᵀX)⁻¹Xᵀ through a thin QR (an SVD costs ~100× more here); SVD when X is rank deficient."""
    q, r = np.linalg.qr(x)
    diagonal = np.abs(np.diag(r))
    if diagonal.min() <= 1e-10 * max(diagonal.max(), 1e-300):
        return np.linalg.pinv(x)
    return np.linalg.solve(r, q.T)


def weighted_fit(x: np.ndarray, y: np.ndarray, *, log: bool) -> Model:
    floor = max(1e-9, 0.01 * float(np.max(np.abs(y)))) if log else 0.0
    root_w = np.maximum(y, floor) if log else np.ones(len(y))
    pinv = pseudo_inverse(x * root_w[:, None])
    model = Model(log, pinv, root_w, floor, np.empty(0), np.empty(0))
    model.beta = model.refit(y[None, :])[0]
    z = x @ model.beta
    model.yhat = np.exp(np.minimum(z, 700)) if log else z
    return model


def sse_of(x: np.ndarray, y: np.ndarray) -> float:
    """Residual sum of squares of a plain least-squares fit (to rank candidate designs)."""
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    r = y - x @ beta
    return float(r @ r)


def future_grid(now: float, days: float) -> np.ndarray:
    """Hourly for the first FINE_DAYS (daily peaks are narrow), coarser beyond."""
    fine = np.arange(0.0, min(days, FINE_DAYS) * DAY + 1, 3600.0)
    if days <= FINE_DAYS:
        return now + fine
    step = max(3600.0, math.ceil((days - FINE_DAYS) * DAY / COARSE_POINTS / 3600) * 3600.0)
    coarse = np.arange(fine[-1] + step, days * DAY + step / 2, step)
    return now + np.concatenate([fine, coarse])
