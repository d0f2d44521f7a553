"""Growth fits with bootstrap uncertainty.

1. **Too little history** is refused (`history_shortfall`): fewer than MIN_POINTS points, or a
   span under `Settings.min_history_days`, is no basis for a date.
2. **Changes** are found in the series less its daily profile (`changes.py`). When the resets
   repeat on a schedule (rotation, compaction, scheduled restarts) the series is a **sawtooth**:
   the fit has a trend, the age of the current tooth and future resets at the same period, so the
   peaks are projected, not the last tooth's slope. Otherwise the data since the last change is
   used, pooled with earlier segments (own level, one growth rate) while it is short.
3. **Candidates**: linear and exponential trends, and linear trends whose rate changes at a knot
   (a *hinge*, the knots that fit best) when the growth speeds up or slows without a jump; each
   with daily Fourier terms and weekday/weekend terms once the data covers them. AIC weights
   (sample size discounted for autocorrelation) times a prior give each candidate its share of
   the bootstrap samples, so when the data cannot tell the old rate from the new the range
   covers both (regime uncertainty).
4. **Bootstrap**: moving blocks of one day of each candidate's residuals, refitted (parameter
   uncertainty with the residuals' dependence), deviations from the median widened by
   `Settings.inflate` (chosen by cross-validation across shapes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from capacity.analysis.changes import (
    WINDOW,
    change_points,
    daily_profile,
    periodic_resets,
    robust_sd,
    segments_for_fit,
    sharp_changes,
    sharpest_drop,
    without_blips,
)
from capacity.analysis.regression import (
    block_indices,
    effective_n,
    future_grid,
    seasonal_columns,
    seasonal_terms,
    seasonal_that_pays,
    weighted_fit,
)
from capacity.analysis.types import DAY, Change, Fit, Settings

MIN_POINTS = 8
SAMPLES = 100
BLOCK_S = DAY
HINGE_KNOTS = 3  # the best knots kept as candidates
MIN_SAWTOOTH_DAYS = 2.0
HINGE_MIN_GAIN = 4.0  # AIC units: a knot and a coefficient
MAX_KNOTS = 40  # knots tried (every 6 hours, or fewer on a long segment)
MAX_FIT_DAYS = 35.0  # older history does not inform today's growth, and costs time
HINGE_EDGE_DAYS = 1.0  # a knot leaves at least this much data after a change
HINGE_END_DAYS = 1.5  # and at least this much before now
# Prior weight of each growth model: most capacity grows linearly (disks, queues, tables), and a
# short segment cannot tell the two apart, so exponential growth has to win on the data.
PRIOR = {"linear": 0.8, "exponential": 0.2}
SETTINGS = Settings()
OUTLIER_SIGMAS = 4.0
MAX_OUTLIER_DAYS = 2
RATE_CHANGE = 0.3  # a hinge whose rates differ less than this is not reported as a change


@dataclass
class Candidate:
    name: str
    x: np.ndarray  # design over the fitted history
    xf: np.ndarray  # design over the future grid
    log: bool
    prior: float
    slope: np.ndarray  # growth per day at now = slope · beta
    extra: int = 0  # parameters chosen outside least squares (a knot)
    knot: float | None = None  # unix seconds


@dataclass
class Frame:
    """The data a fit uses and the candidate models over it."""

    t: np.ndarray
    y: np.ndarray
    grid: np.ndarray
    candidates: list[Candidate]
    segment_start: float
    pooled: int = 1
    period_days: float | None = None
    notes: list[str] = field(default_factory=list)
    seasonal: bool = False


def prepare(ts, y) -> tuple[np.ndarray, np.ndarray]:
    ts, y = np.asarray(ts, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(ts) & np.isfinite(y)
    order = np.argsort(ts[ok])
    return ts[ok][order], y[ok][order]


def history_shortfall(ts, *, settings: Settings = SETTINGS) -> str | None:
    """Why this history is too short to forecast from (None: it is enough)."""
    if len(ts) < MIN_POINTS:
        return f"{len(ts)} hourly point(s): at least {MIN_POINTS} are needed"
    span = (float(np.max(ts)) - float(np.min(ts))) / DAY
    if span < settings.min_history_days - 1 / 24:
        return (
            f"{span:.1f} days of history ({len(ts)} hourly points): at least "
            f"{settings.min_history_days:g} days are needed for a forecast"
        )
    return None


def sawtooth_frame(ts, y, found, period: float, now: float, grid: np.ndarray) -> Frame:
    """Trend + age of the current tooth, from the first reset on; future resets every period."""
    drops = [sharpest_drop(y, i) for i, c in found if c.kind == "reset"]
    resets = np.array([(ts[i - 1] + ts[i]) / 2 for i in drops])
    ahead = resets[-1] + period * DAY * np.arange(1, int((grid[-1] - resets[-1]) / (period * DAY)) + 2)
    grid = np.unique(np.concatenate([grid, ahead[ahead > now] - 1.0, ahead[ahead > now] + 1.0]))
    grid = grid[grid <= grid[-1]]
    keep = ts >= resets[0]
    keep[np.clip(np.concatenate([np.array(drops) - 1, drops]), 0, len(ts) - 1)] = False  # mixed hours
    t, yk = ts[keep], y[keep]
    every = np.concatenate([resets, ahead])

    def columns(at: np.ndarray) -> np.ndarray:
        last = every[np.clip(np.searchsorted(every, at, side="right") - 1, 0, None)]
        t_days = (at - now) / DAY
        cols = [np.ones(len(at)), t_days, (at - last) / DAY]
        daily, _ = seasonal_terms(t_days) if period >= 2 else (False, False)
        return np.column_stack(cols + seasonal_columns(at / DAY, daily, False))

    x = columns(t)
    xf = columns(grid)
    slope = np.zeros(x.shape[1])
    slope[1] = 1.0
    note = f"resets every {period:.1f} days (rotation or compaction): the peaks are projected"
    candidate = Candidate("sawtooth", x, xf, False, 1.0, slope)
    return Frame(t, yk, grid, [candidate], float(resets[-1]), 1, period, [note], x.shape[1] > 3)


def one_off_changes(ts, y, *, limit: float) -> list[tuple[int, Change]]:
    """Changes in the series less its daily profile: the window detector's, and the sharp
    two-point ones it misses between close resets, in time order (one per WINDOW points)."""
    rest = y - daily_profile(ts, y)
    if len(y) > 2 and np.var(np.diff(rest)) > 0.9 * np.var(np.diff(y)):
        rest = y  # the profile does not smooth the hour-to-hour moves (no cycle, or a wrap bent it)
    found = sorted(change_points(ts, rest, limit=limit) + sharp_changes(ts, rest, limit=limit), key=lambda f: f[0])
    out: list[tuple[int, Change]] = []
    for index, change in found:
        if out and index - out[-1][0] < WINDOW:
            if abs(change.size) > abs(out[-1][1].size) and change.kind == out[-1][1].kind:
                out[-1] = (index, change)
            continue
        out.append((index, change))
    return without_blips(out)


def trend_frame(ts, y, found, now: float, grid: np.ndarray, settings: Settings) -> Frame:
    """The last segment (pooled with earlier ones while short): linear, exponential and hinges."""
    first, starts = segments_for_fit(len(y), ts, [i for i, _ in found], alone_days=settings.alone_days)
    t, yk = ts[first:], y[first:]
    segment = np.searchsorted(np.asarray(starts), np.arange(first, len(y)), side="right") - 1
    t_days, g_days = (t - now) / DAY, (grid - now) / DAY
    count = len(starts)
    base = np.column_stack([(segment == j).astype(float) for j in range(count)] + [t_days])
    daily, weekly = seasonal_that_pays(base, t / DAY, yk, *seasonal_terms(t_days))
    x = np.column_stack(
        [(segment == j).astype(float) for j in range(count)] + [t_days] + seasonal_columns(t / DAY, daily, weekly)
    )
    xf = np.column_stack(
        [np.full(len(grid), float(j == count - 1)) for j in range(count)]
        + [g_days]
        + seasonal_columns(grid / DAY, daily, weekly)
    )
    slope = np.zeros(x.shape[1])
    slope[count] = 1.0
    hp = settings.hinge_prior
    candidates = [Candidate("linear", x, xf, False, PRIOR["linear"] * (1 - hp), slope)]
    recent = yk[-max(3, len(yk) // 4) :]
    if np.median(recent) > 0 and recent[-1] > 0:
        candidates.append(Candidate("exponential", x, xf, True, PRIOR["exponential"] * (1 - hp), slope))
    last_start = float(ts[starts[-1]])
    candidates += hinges(x, xf, yk, t_days, g_days, (last_start - now) / DAY, slope, hp)
    return Frame(t, yk, grid, candidates, last_start, count, seasonal=bool(daily or weekly))


def hinges(x, xf, y, t_days, g_days, start_days: float, slope, prior: float) -> list[Candidate]:
    """Linear trends whose rate changes at a knot (every 6 hours inside the last segment): the
    HINGE_KNOTS - 1 single knots that leave the least squared error, and the best knot with the
    best second one (an S-curve: growth that took off and then levelled off)."""
    lo, hi = start_days + HINGE_EDGE_DAYS, t_days[-1] - HINGE_END_DAYS
    if hi - lo < 0.5 or prior <= 0:
        return []
    knots = np.arange(lo, hi, max(0.25, (hi - lo) / MAX_KNOTS))
    gain, resid = knot_gains(x, y, t_days, knots)
    sse = float(resid @ resid)
    if effective_n(resid) * math.log(sse / max(sse - float(gain.max()), 1e-300)) < HINGE_MIN_GAIN:
        return []  # no knot is worth its two parameters: the rate has not changed (and it is faster)
    order = np.argsort(-gain)
    chosen = [[float(k)] for k in knots[order[: HINGE_KNOTS - 1]]]
    first = chosen[0][0]
    other = knots[np.abs(knots - first) >= 0.5]
    if len(other):
        x1 = np.column_stack([x, np.maximum(0.0, t_days - first)])
        chosen.append(sorted([first, float(other[int(np.argmax(knot_gains(x1, y, t_days, other)[0]))])]))
    out = []
    for ks in chosen:
        out.append(
            Candidate(
                "hinge",
                np.column_stack([x] + [np.maximum(0.0, t_days - k) for k in ks]),
                np.column_stack([xf] + [np.maximum(0.0, g_days - k) for k in ks]),
                False,
                prior / len(chosen),
                np.concatenate([slope, np.ones(len(ks))]),
                extra=len(ks),
                knot=ks[-1],
            )
        )
    return out


def knot_gains(x, y, t_days, knots) -> tuple[np.ndarray, np.ndarray]:
    """How much each knot's hinge column would lower the squared error of the fit of x (by
    projecting it and y on the complement of x's columns), and the residuals of that fit."""
    q, _ = np.linalg.qr(x)
    resid = y - q @ (q.T @ y)
    h = np.maximum(0.0, t_days[:, None] - knots[None, :])
    h = h - q @ (q.T @ h)
    norm = np.einsum("ij,ij->j", h, h)
    return np.where(norm > 1e-9, (h.T @ resid) ** 2 / np.maximum(norm, 1e-300), 0.0), resid


def without_outliers(frame: Frame, fitted: list) -> list:
    """Refit without whole days far off the first (linear) candidate: a holiday or an outage
    is a day whose mean residual is more than OUTLIER_SIGMAS robust deviations from the others'
    (at most MAX_OUTLIER_DAYS of them), so a day off does not bend the trend, and hinges do not
    spend their knots on it. The frame keeps only the points used."""
    r = frame.y - fitted[0].yhat
    day = np.floor(frame.t / DAY)
    days, index = np.unique(day, return_inverse=True)
    if len(days) < 7:
        return fitted
    means = np.bincount(index, weights=r) / np.bincount(index)
    z = np.abs(means - np.median(means)) / max(robust_sd(means), 1e-9)
    worst = np.argsort(-z)[:MAX_OUTLIER_DAYS]
    drop = worst[z[worst] > OUTLIER_SIGMAS]
    drop = drop[days[drop] < day[-1]]  # never the day in progress
    if not len(drop):
        return fitted
    keep = ~np.isin(index, drop)
    frame.t, frame.y = frame.t[keep], frame.y[keep]
    for c in frame.candidates:
        c.x = c.x[keep]
    return [weighted_fit(c.x, frame.y, log=c.log) for c in frame.candidates]


def model_weights(frame: Frame, fitted: list) -> np.ndarray:
    """AIC weight × prior of each candidate, with one effective sample size for all (or the
    AICs would not be comparable)."""
    y = frame.y
    scale = 1e-12 * max(1.0, float(np.mean(y**2)))
    mse = np.array([float(np.mean((y - m.yhat) ** 2)) + scale for m in fitted])
    n = effective_n(y - fitted[int(np.argmin(mse))].yhat)
    aic = np.array([n * math.log(v) + 2 * (c.x.shape[1] + c.extra) for v, c in zip(mse, frame.candidates, strict=True)])
    prior = np.array([c.prior for c in frame.candidates])
    raw = prior * np.exp(-0.5 * np.minimum(700.0, aic - aic.min()))
    return raw / raw.sum()


def bootstrap(frame: Frame, fitted, weights, *, samples: int, seed: int, inflate: float) -> np.ndarray:
    """Paths over the grid: each candidate's share of block-bootstrap refits."""
    rng = np.random.default_rng(seed)
    counts = np.floor(weights * samples).astype(int)
    counts[int(np.argmax(weights))] += samples - counts.sum()
    spacing = float(np.median(np.diff(frame.t))) if len(frame.t) > 1 else 3600.0
    block = round(BLOCK_S / max(spacing, 1.0))
    paths = np.empty((samples, len(frame.grid)))
    row = 0
    for candidate, model, count in zip(frame.candidates, fitted, counts, strict=True):
        if count <= 0:
            continue
        residuals = frame.y - model.yhat
        residuals = residuals - residuals.mean()
        draws = model.yhat + residuals[block_indices(len(frame.y), count, block, rng)]
        betas = model.refit(draws)
        middle = np.median(betas, axis=0)
        out = paths[row : row + count]
        np.matmul(middle + inflate * (betas - middle), candidate.xf.T, out=out)
        if model.log:
            np.exp(np.minimum(out, 700, out=out), out=out)
        # The last hours pin today's level: a path keeps its own growth and cycle, not its own
        # idea of where the series is now (a day-long residual block would shift it whole).
        now = candidate.xf[0] @ model.beta
        now = math.exp(min(now, 700)) if model.log else now
        out += now - out[:, :1]
        row += count
    return paths


def fit_growth(
    ts,
    y,
    *,
    now: float,
    days: float,
    limit: float,
    samples: int = SAMPLES,
    seed: int = 0,
    settings: Settings = SETTINGS,
) -> Fit | None:
    """Bootstrap paths of the expected value from `now` to `days` ahead (None: too little
    history, see `history_shortfall`)."""
    ts, y = prepare(ts, y)
    if history_shortfall(ts, settings=settings):
        return None
    recent = ts >= now - MAX_FIT_DAYS * DAY
    ts, y = ts[recent], y[recent]
    sharp = sharp_changes(ts, y, limit=limit)
    period = periodic_resets(ts, sharp)
    if period is not None and period < MIN_SAWTOOTH_DAYS:
        period = None  # a daily sawtooth is a daily cycle: the seasonal terms fit its peaks
    grid = future_grid(now, days)
    if period:
        found = [(i, c) for i, c in sharp if c.kind == "reset"]
        frame = sawtooth_frame(ts, y, found, period, now, grid)
    else:
        found = one_off_changes(ts, y, limit=limit)
        frame = trend_frame(ts, y, found, now, grid, settings)
    if len(frame.y) < 3:
        return None
    fitted = [weighted_fit(c.x, frame.y, log=c.log) for c in frame.candidates]
    fitted = without_outliers(frame, fitted)
    weights = model_weights(frame, fitted)
    paths = bootstrap(frame, fitted, weights, samples=samples, seed=seed, inflate=settings.inflate)
    fit = assemble(frame, fitted, weights, paths, ts, y, found)
    spacing = float(np.median(np.diff(ts)))
    fit.lead = np.random.default_rng([seed, 1]).uniform(0.0, spacing, len(paths))
    return fit


def assemble(frame: Frame, fitted, weights, paths, ts, y, found: list[tuple[int, Change]]) -> Fit:
    best = int(np.argmax(weights))
    chosen, model = frame.candidates[best], fitted[best]
    mean = chosen.xf @ model.beta
    mean = np.exp(np.minimum(mean, 700)) if model.log else mean
    growth = float(chosen.slope @ model.beta) * (float(mean[0]) if model.log else 1.0)
    shares: dict[str, float] = {}
    for c, w in zip(frame.candidates, weights, strict=True):
        shares[c.name] = shares.get(c.name, 0.0) + float(w)
    notes = list(frame.notes)
    rate_change_at = regime_note(frame, weights, fitted, notes)
    return Fit(
        model=chosen.name + ("+seasonal" if frame.seasonal else ""),
        weights={k: round(v, 4) for k, v in shares.items()},
        times=frame.grid,
        paths=paths,
        mean=mean,
        level=float(np.median(y[-3:])),
        growth_per_day=growth,
        residual_sd=float(np.std(frame.y - model.yhat)),
        changes=[c for _, c in found],
        segment_start=frame.segment_start,
        pooled=frame.pooled,
        points=len(frame.y),
        history_days=float((ts[-1] - ts[0]) / DAY),
        last_ts=float(ts[-1]),
        period_days=frame.period_days,
        rate_change_at=rate_change_at,
        notes=notes,
    )


def regime_note(frame: Frame, weights, fitted, notes: list[str]) -> float | None:
    """When a growth-rate change carries weight: when it was, and a note on how the range
    treats it. Returns the knot (unix seconds) of the heaviest hinge."""
    hinge = [(w, c, m) for c, w, m in zip(frame.candidates, weights, fitted, strict=True) if c.name == "hinge"]
    share = sum(w for w, _, _ in hinge)
    if not hinge or share < 0.2:
        return None
    _, c, m = max(hinge, key=lambda item: item[0])
    at = float(frame.grid[0] + c.knot * DAY)
    before = float(m.beta[int(np.flatnonzero(c.slope)[0])])
    after = float(c.slope @ m.beta)
    if abs(after - before) < RATE_CHANGE * max(abs(before), abs(after), 1e-9):
        return None  # the knot bends the fit a little, the rate is the same
    ago = (frame.grid[0] - at) / DAY
    rates = f"{before:+.2g}/day → {after:+.2g}/day about {ago:.1f} days ago"
    if share >= 0.8:
        notes.append(f"growth rate changed ({rates}): the recent rate is projected")
    else:
        notes.append(f"growth rate may have changed ({rates}, weight {share:.0%}): the range covers both rates")
    return at
