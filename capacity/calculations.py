"""Capacity maths: change points, growth fits with bootstrap uncertainty, time to exhaustion,
right-sizing with cost, scenarios and the risk order of the fleet. Pure numpy, no Django.

How a time to exhaustion is found (`fit_growth` then `exhaustion`):

1. **Change points.** A 3-point running median removes single spikes; a jump between consecutive
   points (or over 3 points, for a change that takes a few hours) much larger than the series'
   usual step — more than `JUMP_SIGMAS` robust standard deviations of the first differences
   and at least `MIN_JUMP` of the limit — is a change: a *reset* when the level falls (restart,
   cleanup, rotation), a *step* when it rises (migration, new tenant).
2. **Segment.** The fit uses the data since the last change. When that segment is short (under
   `ALONE_DAYS`), up to `POOL_SEGMENTS` earlier segments join it with their own level but one
   shared growth rate, so a host rebooted an hour ago keeps the growth it showed before the
   reboot instead of extrapolating the first minutes after boot ("full in 2 minutes").
3. **Growth models.** Linear and exponential (linear in log space) trends, each with daily and
   weekly Fourier terms when the data covers two cycles (seasonal + trend). Both are fitted by
   least squares; AIC on the original scale gives each a weight.
4. **Uncertainty.** A moving-block residual bootstrap (blocks of a day, so autocorrelated noise
   is kept) refits each model `samples` times; each model contributes samples in proportion to
   its weight. Every bootstrap path is searched for its first crossing of the limit, and the
   p10 / p50 / p90 of those crossing times are the answer (a path that never crosses within the
   horizon counts as "later than the horizon").

The crossing is that of the expected path (trend + seasonality), not of the noise around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

DAY = 86400.0
JUMP_SIGMAS = 6.0
WINDOW = 6  # points on each side of a candidate change
MIN_JUMP = 0.05  # a change must move the level by at least 5 % of the limit
ALONE_DAYS = 5.0  # a segment this long is fitted on its own
POOL_SEGMENTS = 3
MIN_POINTS = 8
SAMPLES = 200
BLOCK_S = DAY
FINE_DAYS = 90.0
COARSE_POINTS = 1500
# Bootstrap coefficient deviations are widened by this factor around their median: the bootstrap
# knows neither where the change point really was nor that the model itself was chosen from the
# data. Chosen on synthetic seeds 1-4 (p10-p90 coverage 0.78-0.88 at 1.3, 0.87-0.93 at 1.6);
# bench/capacity.py reports the coverage on other seeds.
INFLATE = 1.6
MONTH_DAYS = 30.4375
# Prior weight of each growth model: most capacity grows linearly (disks, queues, tables), and a
# short segment cannot tell the two apart, so exponential growth has to win on the data.
PRIOR = {"linear": 0.8, "exponential": 0.2}


@dataclass(frozen=True)
class Change:
    ts: float
    kind: str  # reset or step
    size: float


@dataclass
class Fit:
    """Bootstrap paths of the expected value over a future grid, and how they were found."""

    model: str
    weights: dict[str, float]
    times: np.ndarray  # future grid, unix seconds (first = now)
    paths: np.ndarray  # (samples, len(times))
    mean: np.ndarray  # the point fit on the grid
    level: float  # observed level now (median of the last points)
    growth_per_day: float  # of the point fit at now
    residual_sd: float
    changes: list[Change] = field(default_factory=list)
    segment_start: float = 0.0
    pooled: int = 1  # segments sharing the growth rate
    points: int = 0
    history_days: float = 0.0
    last_ts: float = 0.0


@dataclass(frozen=True)
class Exhaustion:
    """Seconds from now until the limit is reached at p10 / p50 / p90 (None: not within the horizon)."""

    p10: float | None
    p50: float | None
    p90: float | None
    probability: float  # share of paths crossing within the horizon
    horizon_s: float
    now: bool = False  # already at or over the limit

    def days(self, q: str) -> float | None:
        value = getattr(self, q)
        return None if value is None else value / DAY


@dataclass(frozen=True)
class Sizing:
    """What the resource's capacity settings say (utilization figures are fractions of capacity)."""

    limit: float  # the value at which the resource is exhausted
    capacity: float  # the value at 100 % utilization (the limit, or 100 for percent series)
    allocation: float | None = None
    allocation_step: float = 1.0
    min_allocation: float = 0.0
    unit_cost: float = 0.0
    target: float = 0.7
    floor: float = 0.3
    window_days: float = 30.0  # the forecast peak is taken over this many days
    verb: str = "out"  # "scale out" (replicas) or "scale up" (vCPU, GB, ...)


@dataclass(frozen=True)
class Recommendation:
    action: str  # scale_out, scale_up, scale_down, keep, none
    allocation: float | None
    new_allocation: float | None
    monthly_cost_change: float
    confidence: float
    confidence_label: str
    reason: str
    evidence: dict


@dataclass(frozen=True)
class Scenario:
    name: str = "baseline"
    growth_pct_per_month: float = 0.0
    event_at: float | None = None  # unix seconds
    event_days: float = 1.0
    event_multiplier: float = 1.0
    added_allocation: float = 0.0


# ---------------------------------------------------------------- change points and segments


def despike(y: np.ndarray) -> np.ndarray:
    """3-point running median (the ends kept), so a single outlier is not a change."""
    if len(y) < 3:
        return y.copy()
    out = y.copy()
    out[1:-1] = np.median(np.stack([y[:-2], y[1:-1], y[2:]]), axis=0)
    return out


def robust_sd(x: np.ndarray) -> float:
    if len(x) == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def change_points(ts: np.ndarray, y: np.ndarray, *, limit: float) -> list[tuple[int, Change]]:
    """(index of the first point after the change, change) for every jump in the series: the
    mean of the WINDOW points after a position minus the mean of the WINDOW points before it
    (less the trend's typical difference) beyond JUMP_SIGMAS robust deviations of that
    difference. Near the end fewer points are after the position and the bar rises to match, so
    a restart in the last hour is found too."""
    n, w = len(y), WINDOW
    if n < 2 * w + 1:
        return []
    y = despike(y)
    c = np.concatenate([[0.0], np.cumsum(y)])
    i = np.arange(w, n)
    k = np.minimum(w, n - i)  # points after the position
    d = (c[i + k] - c[i]) / k - (c[i] - c[i - w]) / w
    full = k == w
    d = d - np.median(d[full])
    scale = robust_sd(d[full])
    floor = MIN_JUMP * abs(limit) if limit else 0.0
    bar = np.maximum(JUMP_SIGMAS * scale * np.sqrt((1 / k + 1 / w) / (2 / w)), max(floor, 1e-12))
    over = np.abs(d) > bar
    changes: list[tuple[int, Change]] = []
    at = 0
    while at < len(d):
        if not over[at]:
            at += 1
            continue
        end = at
        while end + 1 < len(d) and over[end + 1]:
            end += 1
        peak = at + int(np.argmax(np.abs(d[at : end + 1])))
        index = int(i[peak])
        if not changes or index - changes[-1][0] >= w:
            size = float(d[peak])
            changes.append((index, Change(float(ts[index]), "reset" if size < 0 else "step", size)))
        at = end + 1
    return changes


def segments_for_fit(n: int, ts: np.ndarray, cuts: list[int]) -> tuple[int, list[int]]:
    """(first index used, segment starts inside it): the last segment, pooled with earlier ones
    while it is shorter than ALONE_DAYS."""
    starts = [0, *cuts]
    chosen = [starts[-1]]
    for start in reversed(starts[:-1]):
        span = (ts[-1] - ts[chosen[0]]) / DAY
        if span >= ALONE_DAYS or len(chosen) >= POOL_SEGMENTS:
            break
        chosen.insert(0, start)
    # A pooled segment too short to say anything is dropped (a blip between two changes).
    kept = [s for i, s in enumerate(chosen) if i == len(chosen) - 1 or (chosen[i + 1] - s) >= 3]
    return kept[0], kept


# ---------------------------------------------------------------- growth fit


def seasonal_periods(t_days: np.ndarray) -> list[tuple[float, int]]:
    """(period in days, harmonics) covered at least twice by data sampled finely enough."""
    if len(t_days) < 4:
        return []
    span = float(t_days[-1] - t_days[0])
    spacing = float(np.median(np.diff(t_days)))
    periods = []
    if span >= 2 and spacing <= 0.125:
        periods.append((1.0, 2))
    if span >= 14 and spacing <= 1:
        periods.append((7.0, 1))
    return periods


def design(t_days: np.ndarray, segment: np.ndarray, count: int, periods) -> np.ndarray:
    cols = [(segment == j).astype(float) for j in range(count)]
    cols.append(t_days)
    for period, harmonics in periods:
        for k in range(1, harmonics + 1):
            angle = 2 * np.pi * k * t_days / period
            cols.extend([np.sin(angle), np.cos(angle)])
    return np.column_stack(cols)


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
    rho = float(np.clip(np.dot(r[1:], r[:-1]) / max(np.dot(r, r), 1e-300), 0.0, 0.95))
    return n * (1 - rho) / (1 + rho)


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


def future_grid(now: float, days: float) -> np.ndarray:
    """Hourly for the first FINE_DAYS (daily peaks are narrow), coarser beyond."""
    fine = np.arange(0.0, min(days, FINE_DAYS) * DAY + 1, 3600.0)
    if days <= FINE_DAYS:
        return now + fine
    step = max(3600.0, math.ceil((days - FINE_DAYS) * DAY / COARSE_POINTS / 3600) * 3600.0)
    coarse = np.arange(fine[-1] + step, days * DAY + step / 2, step)
    return now + np.concatenate([fine, coarse])


def fit_growth(
    ts: np.ndarray,
    y: np.ndarray,
    *,
    now: float,
    days: float,
    limit: float,
    samples: int = SAMPLES,
    seed: int = 0,
) -> Fit | None:
    """Bootstrap paths of the expected value from `now` to `days` ahead (None: too little data)."""
    ts, y = np.asarray(ts, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(ts) & np.isfinite(y)
    ts, y = ts[ok], y[ok]
    if len(y) < MIN_POINTS:
        return None
    order = np.argsort(ts)
    ts, y = ts[order], y[order]
    found = change_points(ts, y, limit=limit)
    first, starts = segments_for_fit(len(y), ts, [i for i, _ in found])
    t_seg, y_seg = ts[first:], y[first:]
    if len(y_seg) < 3:
        return None
    segment = np.searchsorted(np.asarray(starts), np.arange(first, len(y)), side="right") - 1
    t_days = (t_seg - now) / DAY
    periods = seasonal_periods(t_days)
    x = design(t_days, segment, len(starts), periods)
    grid = future_grid(now, days)
    g_days = (grid - now) / DAY
    xf = design(g_days, np.full(len(grid), len(starts) - 1), len(starts), periods)
    spacing = float(np.median(np.diff(t_seg))) if len(t_seg) > 1 else 3600.0
    block = round(BLOCK_S / max(spacing, 1.0))
    rng = np.random.default_rng(seed)
    fitted = {"linear": weighted_fit(x, y_seg, log=False)}
    recent = y_seg[-max(3, len(y_seg) // 4) :]
    if np.median(recent) > 0 and recent[-1] > 0:
        fitted["exponential"] = weighted_fit(x, y_seg, log=True)
    mse = {
        name: float(np.mean((y_seg - m.yhat) ** 2)) + 1e-12 * max(1.0, float(np.mean(y_seg**2)))
        for name, m in fitted.items()
    }
    closest = fitted[min(mse, key=mse.get)]
    n = effective_n(y_seg - closest.yhat)  # one sample size for every model, or AIC is not comparable
    aic = {name: n * math.log(value) + 2 * x.shape[1] for name, value in mse.items()}
    best = min(aic, key=aic.get)
    raw = {k: PRIOR[k] * math.exp(-0.5 * min(700.0, v - aic[best])) for k, v in aic.items()}
    best = max(raw, key=raw.get)
    weights = {k: v / sum(raw.values()) for k, v in raw.items()}
    counts = {k: round(samples * w) for k, w in weights.items()}
    counts[best] += samples - sum(counts.values())
    paths = []
    for name, model in fitted.items():
        if counts[name] <= 0:
            continue
        residuals = y_seg - model.yhat
        residuals = residuals - residuals.mean()
        draws = model.yhat + residuals[block_indices(len(y_seg), counts[name], block, rng)]
        betas = model.refit(draws)  # (count, p)
        middle = np.median(betas, axis=0)
        betas = middle + INFLATE * (betas - middle)
        path = betas @ xf.T
        paths.append(np.exp(np.minimum(path, 700)) if model.log else path)
    chosen = fitted[best]
    mean = xf @ chosen.beta
    mean = np.exp(np.minimum(mean, 700)) if chosen.log else mean
    slope = float(chosen.beta[len(starts)])
    level_now = float(np.median(y[-3:]))
    growth = slope * float(mean[0]) if chosen.log else slope
    resid = y_seg - chosen.yhat
    name = best + ("+seasonal" if periods else "")
    return Fit(
        model=name,
        weights={k: round(v, 4) for k, v in weights.items()},
        times=grid,
        paths=np.vstack(paths),
        mean=mean,
        level=level_now,
        growth_per_day=growth,
        residual_sd=float(np.std(resid)),
        changes=[c for _, c in found],
        segment_start=float(ts[starts[-1]]),
        pooled=len(starts),
        points=len(y_seg),
        history_days=float((ts[-1] - ts[0]) / DAY),
        last_ts=float(ts[-1]),
    )


# ---------------------------------------------------------------- exhaustion


def crossing_times(times: np.ndarray, paths: np.ndarray, threshold: float) -> np.ndarray:
    """Seconds from times[0] to each path's first value ≥ threshold (linear between grid points;
    inf when it never gets there)."""
    over = paths >= threshold
    hit = over.any(axis=1)
    first = np.argmax(over, axis=1)
    out = np.full(len(paths), np.inf)
    rows = np.flatnonzero(hit)
    i = first[rows]
    at_start = i == 0
    out[rows[at_start]] = 0.0
    rows, i = rows[~at_start], i[~at_start]
    before, after = paths[rows, i - 1], paths[rows, i]
    share = np.clip((threshold - before) / np.maximum(after - before, 1e-300), 0.0, 1.0)
    out[rows] = times[i - 1] + share * (times[i] - times[i - 1]) - times[0]
    return out


def quantile(values: np.ndarray, q: float) -> float:
    """Lower empirical quantile that keeps inf (numpy interpolation turns inf into nan)."""
    ordered = np.sort(values)
    return float(ordered[min(len(ordered) - 1, max(0, math.floor(q * (len(ordered) - 1) + 0.5)))])


def exhaustion(
    fit: Fit,
    *,
    limit: float,
    horizon_days: float,
    factor: np.ndarray | None = None,
    limit_scale: float = 1.0,
) -> Exhaustion:
    """Time to exhaustion at p10 / p50 / p90 over the horizon (optionally under a scenario:
    paths multiplied by `factor`, limit multiplied by `limit_scale`)."""
    horizon_s = horizon_days * DAY
    threshold = limit * limit_scale
    if fit.level >= threshold and limit_scale == 1.0 and factor is None:
        return Exhaustion(0.0, 0.0, 0.0, 1.0, horizon_s, now=True)
    keep = fit.times <= fit.times[0] + horizon_s + 1
    paths = fit.paths[:, keep] * (factor[keep] if factor is not None else 1.0)
    if fit.level * (factor[0] if factor is not None else 1.0) >= threshold:
        return Exhaustion(0.0, 0.0, 0.0, 1.0, horizon_s, now=True)
    cross = crossing_times(fit.times[keep], paths, threshold)

    def q(p: float) -> float | None:
        value = quantile(cross, p)
        return None if not math.isfinite(value) or value > horizon_s else value

    return Exhaustion(q(0.1), q(0.5), q(0.9), float(np.mean(np.isfinite(cross))), horizon_s)


def describe_eta(ex: Exhaustion) -> str:
    """ "full in 3.2 days (p10–p90 2.6–3.8)", "already at the limit", "not within 90 days"."""
    if ex.now:
        return "already at the limit"
    if ex.p50 is None:
        if ex.p10 is not None:
            chance = f"{ex.probability:.0%} chance, earliest {span(ex.p10)}"
            return f"not expected within {ex.horizon_s / DAY:g} days ({chance})"
        return f"not within {ex.horizon_s / DAY:g} days"
    upper = span(ex.p90) if ex.p90 is not None else f"> {ex.horizon_s / DAY:g} days"
    return f"in {span(ex.p50)} (p10–p90 {span(ex.p10)} – {upper})"


def span(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * DAY:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / DAY:.1f} days"


# ---------------------------------------------------------------- scenarios


def scenario_factor(times: np.ndarray, scenario: Scenario) -> np.ndarray:
    """Multiplier of the expected value at each grid time: compound monthly growth, times the
    one-off multiplier inside the event window."""
    months = (times - times[0]) / DAY / MONTH_DAYS
    factor = (1 + scenario.growth_pct_per_month / 100.0) ** months
    if scenario.event_at is not None and scenario.event_multiplier != 1.0:
        inside = (times >= scenario.event_at) & (times < scenario.event_at + scenario.event_days * DAY)
        factor = np.where(inside, factor * scenario.event_multiplier, factor)
    return factor


def allocation_scale(sizing: Sizing, added: float) -> float:
    """How much the capacity grows with `added` units of allocation (load spread evenly)."""
    if not added or not sizing.allocation:
        return 1.0
    return max(sizing.allocation + added, 1e-9) / sizing.allocation


# ---------------------------------------------------------------- right-sizing


def round_up(value: float, step: float) -> float:
    step = step if step and step > 0 else 1.0
    return round(math.ceil(value / step - 1e-9) * step, 6)


def forecast_peak(fit: Fit, *, capacity: float, window_days: float, factor=None, scale: float = 1.0):
    """(p10, p50, p90) over the bootstrap of the highest utilization within the window, and when
    the median path peaks."""
    keep = fit.times <= fit.times[0] + window_days * DAY + 1
    paths = fit.paths[:, keep] * (factor[keep] if factor is not None else 1.0) / (capacity * scale)
    peaks = paths.max(axis=1)
    mean = fit.mean[keep] * (factor[keep] if factor is not None else 1.0)
    at = float(fit.times[keep][int(np.argmax(mean))])
    return quantile(peaks, 0.1), quantile(peaks, 0.5), quantile(peaks, 0.9), at


def confidence_of(fit: Fit, peak: tuple[float, float, float], now: float) -> float:
    data = min(1.0, fit.history_days / 14.0)
    spread = (peak[2] - peak[0]) / max(abs(peak[1]), 1e-9)
    quality = 1.0 / (1.0 + 2.0 * spread)
    recent = any(now - c.ts < 2 * DAY for c in fit.changes)
    return round(data * quality * (0.7 if recent else 1.0), 3)


def confidence_label(value: float) -> str:
    return "high" if value >= 0.7 else "medium" if value >= 0.4 else "low"


def recommend(
    fit: Fit, sizing: Sizing, *, p95_utilization: float | None, scenario: Scenario | None = None
) -> Recommendation:
    """Scale out/up so the forecast peak (p90 of the bootstrap) stays under the target; scale down
    when both the observed p95 and the forecast peak stay under the floor. Utilization is taken to
    fall in proportion as allocation grows (the load is spread over the units)."""
    factor = scenario_factor(fit.times, scenario) if scenario else None
    scale = allocation_scale(sizing, scenario.added_allocation) if scenario else 1.0
    allocation = (sizing.allocation or 0) * scale if sizing.allocation else None
    peak = forecast_peak(fit, capacity=sizing.capacity, window_days=sizing.window_days, factor=factor, scale=scale)
    now = float(fit.times[0])
    confidence = confidence_of(fit, peak[:3], now)
    evidence = {
        "forecast_peak_utilization": {"p10": peak[0], "p50": peak[1], "p90": peak[2]},
        "peak_at": peak[3],
        "p95_utilization": p95_utilization,
        "window_days": sizing.window_days,
        "target": sizing.target,
        "floor": sizing.floor,
        "model": fit.model,
        "history_days": round(fit.history_days, 2),
        "growth_per_day": fit.growth_per_day,
    }

    def result(action, new, reason):
        change = 0.0 if new is None or allocation is None else (new - allocation) * sizing.unit_cost
        return Recommendation(
            action, allocation, new, round(change, 2), confidence, confidence_label(confidence), reason, evidence
        )

    if not allocation:
        if peak[2] > sizing.target:
            return result(
                "none",
                None,
                f"forecast peak {peak[2]:.0%} is over the {sizing.target:.0%} target; "
                "set the allocation to get a sizing",
            )
        return result("none", None, "set the allocation and unit cost to get a sizing")
    if peak[2] > sizing.target:
        new = max(round_up(allocation * peak[2] / sizing.target, sizing.allocation_step), allocation)
        return result(
            f"scale_{sizing.verb}",
            new,
            f"forecast peak {peak[2]:.0%} (p90, next {sizing.window_days:g} days) is over the "
            f"{sizing.target:.0%} target: {allocation:g} → {new:g} keeps it at "
            f"{peak[2] * allocation / new:.0%}",
        )
    observed = p95_utilization if p95_utilization is not None else peak[1]
    if max(observed, peak[2]) < sizing.floor and allocation > sizing.min_allocation:
        need = max(observed, peak[2])
        new = max(sizing.min_allocation, round_up(allocation * need / sizing.target, sizing.allocation_step))
        if new < allocation:
            return result(
                "scale_down",
                new,
                f"p95 utilization {observed:.0%} and forecast peak {peak[2]:.0%} stay under the "
                f"{sizing.floor:.0%} floor: {allocation:g} → {new:g} runs at about {need * allocation / new:.0%}",
            )
    return result("keep", allocation, f"forecast peak {peak[2]:.0%} stays under the {sizing.target:.0%} target")


# ---------------------------------------------------------------- risk order


def risk_score(ex: Exhaustion | None, peak_p90: float | None) -> float:
    """One number to sort the fleet by, highest first: at the limit (300); a crossing within the
    horizon (200–300, sooner p10 is higher); otherwise the forecast peak utilization (0–~150)."""
    if ex is not None and ex.now:
        return 300.0
    if ex is not None and ex.p10 is not None:
        return 200.0 + 100.0 * (1.0 - min(ex.p10 / DAY, 365.0) / 366.0)
    return min(150.0, 100.0 * (peak_p90 or 0.0))


def utilization_p95(values: np.ndarray, capacity: float) -> float | None:
    values = values[np.isfinite(values)]
    if len(values) == 0 or not capacity:
        return None
    return float(np.percentile(values, 95) / capacity)
