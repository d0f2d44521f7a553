"""Root-cause maths on aligned 1-minute grids: change scores against a baseline, lagged
cross-correlation with a target series and the combined ranking. numpy only, no Django: every
function takes a matrix of shape (series, minutes) and works on all rows at once.

Conventions: NaN marks a missing bucket; a positive lag of k means the candidate moved k steps
*before* the target (candidate[t - k] lines up with target[t]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAD_TO_SD = 1.4826
EPS = 1e-9
STEP_WIDTH = 8  # minutes on each side of the step filter
ANOMALY_SCORE = 0.65
LEAD_SCALE = 10.0  # minutes; see lag_weights
SAME_TIME_LEAD = 5
SAME_TIME_LAG = 2  # the detector's anomaly level (forecasting docs)


def to_grid(ts: np.ndarray, values: np.ndarray, *, start: float, step: float, n: int) -> np.ndarray:
    """Mean of the samples in each of `n` buckets of `step` seconds from `start`; NaN where empty."""
    out = np.full(n, np.nan)
    if len(ts) == 0:
        return out
    idx = np.floor((np.asarray(ts, dtype=float) - start) / step).astype(np.int64)
    keep = (idx >= 0) & (idx < n) & np.isfinite(values)
    idx, vals = idx[keep], np.asarray(values, dtype=float)[keep]
    sums = np.bincount(idx, weights=vals, minlength=n)
    counts = np.bincount(idx, minlength=n)
    filled = counts > 0
    out[filled] = sums[filled] / counts[filled]
    return out


def fill_gaps(matrix: np.ndarray) -> np.ndarray:
    """Carry the last value forward (leading gaps take the first value); all-NaN rows stay NaN."""
    m = np.array(matrix, dtype=float, copy=True)
    if m.size == 0:
        return m
    n = m.shape[1]
    valid = np.isfinite(m)
    idx = np.where(valid, np.arange(n), 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    m = np.take_along_axis(m, idx, axis=1)
    first = np.argmax(valid, axis=1)
    first_value = m[np.arange(len(m)), first] if len(m) else np.array([])
    before = np.arange(n)[None, :] < first[:, None]
    return np.where(before, first_value[:, None], m)


@dataclass(frozen=True)
class Change:
    """Per-series change of the window [split:] against the baseline [:split]."""

    surprise: np.ndarray  # largest step in the window / the baseline's 99th-percentile step
    robust_z: np.ndarray  # |median shift| / baseline robust spread
    ks: np.ndarray  # two-sample Kolmogorov–Smirnov statistic in [0, 1]
    shift: np.ndarray  # signed median shift (window − baseline)
    score: np.ndarray  # combined, in [0, 1)


def change_scores(matrix: np.ndarray, split: int, width: int = STEP_WIDTH) -> Change:
    """How much each row (gaps filled, see fill_gaps) changed in the window [split:] against its
    baseline [:split].

    - surprise: the largest step-filtered move in the window over the 99th percentile of the
      step-filtered moves in the baseline (above 1: larger than nearly anything the series did
      before). A series that always wanders (a random walk) moves a lot in any window, so only
      moves unusual *for that series* score high.
    - robust_z and ks: distribution shift of the window against the baseline (median shift in
      baseline MADs; Kolmogorov–Smirnov statistic).

    score = 0.8·tanh(surprise/2) + 0.1·ks + 0.1·tanh(robust_z/6), in [0, 1)."""
    base, window = matrix[:, :split], matrix[:, split:]
    base_median = np.median(base, axis=1)
    shift = np.median(window, axis=1) - base_median
    mad = np.median(np.abs(base - base_median[:, None]), axis=1)
    tiny = EPS * (1 + np.abs(base_median))
    robust_z = np.abs(shift) / (MAD_TO_SD * mad + tiny)
    ks = ks_statistic(base, window)
    filtered = np.abs(step_filter(matrix, width))
    usual = filtered[:, width : max(split - width, width + 1)]
    peak = filtered[:, split:].max(axis=1) if matrix.shape[1] > split else np.zeros(len(matrix))
    surprise = peak / (np.quantile(usual, 0.99, axis=1) + tiny)
    score = 0.8 * np.tanh(surprise / 2) + 0.1 * ks + 0.1 * np.tanh(robust_z / 6)
    return Change(surprise=surprise, robust_z=robust_z, ks=ks, shift=shift, score=score)


def ks_statistic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise two-sample Kolmogorov–Smirnov statistic sup|F_a − F_b| (no NaN). The supremum
    is reached at a point of b or just below one, so only b's points are looked up in sorted a:
    one sort of a and one searchsorted for all rows (rows are moved apart by an offset)."""
    rows = a.shape[0]
    if rows == 0 or a.shape[1] == 0 or b.shape[1] == 0:
        return np.zeros(rows)
    lo = np.minimum(a.min(axis=1), b.min(axis=1))[:, None]
    span = np.maximum(a.max(axis=1), b.max(axis=1))[:, None] - lo
    span = np.where(span > 0, span, 1.0)
    offset = 2.0 * np.arange(rows)[:, None]
    sa = np.sort((a - lo) / span, axis=1) + offset
    sb = np.sort((b - lo) / span, axis=1) + offset
    flat_a, flat_b = sa.ravel(), sb.ravel()
    base_a = (np.arange(rows) * a.shape[1])[:, None]
    base_b = (np.arange(rows) * b.shape[1])[:, None]
    n_a, n_b = a.shape[1], b.shape[1]
    a_le = (np.searchsorted(flat_a, sb, side="right") - base_a) / n_a  # F_a(x)
    a_lt = (np.searchsorted(flat_a, sb, side="left") - base_a) / n_a  # F_a(x−)
    b_le = (np.searchsorted(flat_b, sb, side="right") - base_b) / n_b  # F_b(x)
    b_lt = (np.searchsorted(flat_b, sb, side="left") - base_b) / n_b  # F_b(x−)
    return np.maximum(np.abs(b_le - a_le), np.abs(a_lt - b_lt)).max(axis=1)


def step_filter(matrix: np.ndarray, width: int = STEP_WIDTH) -> np.ndarray:
    """Mean of the next `width` values minus the mean of the previous `width`, at every minute
    (a differencing that averages out noise): a level shift becomes a single peak at its time.
    Edges without a full window are 0. Rows must have no NaN (see fill_gaps)."""
    rows, n = matrix.shape
    out = np.zeros((rows, n))
    if n < 2 * width:
        return out
    c = np.zeros((rows, n + 1))
    np.cumsum(matrix, axis=1, out=c[:, 1:])
    mid = c[:, width : n - width + 1]
    out[:, width : n - width + 1] = (c[:, 2 * width :] - 2 * mid + c[:, : n - 2 * width + 1]) / width
    return out


def rank_transform(matrix: np.ndarray) -> np.ndarray:
    """Ranks along each row (average ranks not needed: ties are rare in measurements)."""
    return np.argsort(np.argsort(matrix, axis=1, kind="stable"), axis=1).astype(float)


def lagged_xcorr(target: np.ndarray, candidates: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Correlation of every candidate row with `target` at lags −max_lag..+max_lag (via FFT).
    Returns (corr of shape (rows, 2·max_lag+1), lags). Rows and target are centred and scaled
    once over the whole window (the usual biased estimator), so values lie in [−1, 1]."""
    n = target.shape[-1]
    lags = np.arange(-max_lag, max_lag + 1)
    t = target - target.mean()
    c = candidates - candidates.mean(axis=1, keepdims=True)
    norm = np.sqrt((t**2).sum()) * np.sqrt((c**2).sum(axis=1))
    size = 1 << int(np.ceil(np.log2(n + max_lag + 1)))
    spectrum = np.fft.rfft(c, size, axis=1).conj() * np.fft.rfft(t, size)[None, :]
    full = np.fft.irfft(spectrum, size, axis=1)
    # full[:, k] = sum_t target[t] · cand[t - k] for k ≥ 0; negative k wrap around to the end.
    corr = full[:, lags % size] / np.where(norm > EPS, norm, np.inf)[:, None]
    return corr, lags


def window_xcorr(
    target: np.ndarray, candidates: np.ndarray, *, start: int, max_lag: int
) -> tuple[np.ndarray, np.ndarray]:
    """Correlation of the target's window [start:] with each candidate's equally long stretch
    shifted by each lag (−max_lag..+max_lag), normalised by the energy of that stretch (not of
    the whole series): the target's change is matched against what each candidate did around
    that moment. Meant for step-filtered (zero-centred) signals, so nothing is re-centred; parts
    of a shifted stretch beyond the data count as 0. Returns (corr (rows, lags), lags)."""
    rows, n = candidates.shape
    lags = np.arange(-max_lag, max_lag + 1)
    template = np.zeros(n)
    template[start:] = target[start:]
    t_energy = float((template**2).sum())
    size = 1 << int(np.ceil(np.log2(n + max_lag + 1)))
    spectrum = np.fft.rfft(candidates, size, axis=1).conj() * np.fft.rfft(template, size)[None, :]
    dots = np.fft.irfft(spectrum, size, axis=1)[:, lags % size]
    # Energy of candidate[start - k : n - k] for every lag k, from cumulative sums of squares.
    c2 = np.concatenate([np.zeros((rows, 1)), np.cumsum(candidates**2, axis=1)], axis=1)
    lo = np.clip(start - lags, 0, n)
    hi = np.clip(n - lags, 0, n)
    energy = c2[:, hi] - c2[:, lo]
    # A quiet stretch would make any small wiggle look like a perfect match: floor the energy at a
    # quarter of what the series holds over such a stretch on average.
    floor = 0.25 * c2[:, -1:] / n * (n - start)
    norm = np.sqrt(t_energy * np.maximum(energy, floor))
    corr = dots / np.where(norm > EPS, norm, np.inf)
    return corr, lags


def best_lag(corr: np.ndarray, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row the strongest correlation (by absolute value, sign kept) and its lag."""
    at = np.argmax(np.abs(corr), axis=1)
    rows = np.arange(len(corr))
    return corr[rows, at], lags[at]


def lag_weights(lags: np.ndarray, max_lag: int, lead_scale: float = LEAD_SCALE) -> np.ndarray:
    """Prior on lags for a *cause*. Lags from −2 to +5 minutes are within what 1-minute buckets
    and the step filter can resolve, so they count as "at the same time" and weigh 1. Longer
    leads weigh less (halving every `lead_scale`·ln 2 minutes: a change long before is less
    likely the trigger); moving clearly after the target (an effect) weighs a quarter."""
    weight = np.exp(-np.clip(lags - SAME_TIME_LEAD, 0, None) / lead_scale)
    return np.where(lags < -SAME_TIME_LAG, 0.25, weight)


def anomaly_rate_shift(scores: list[np.ndarray | None], split_ts: float, ts: list[np.ndarray | None]) -> np.ndarray:
    """Share of points scored as anomalous after `split_ts` minus the share before (0 when unscored)."""
    out = np.zeros(len(scores))
    for i, (s, t) in enumerate(zip(scores, ts, strict=True)):
        if s is None or t is None or len(s) == 0:
            continue
        after = t >= split_ts
        rate_after = (s[after] >= ANOMALY_SCORE).mean() if after.any() else 0.0
        rate_before = (s[~after] >= ANOMALY_SCORE).mean() if (~after).any() else 0.0
        out[i] = max(0.0, rate_after - rate_before)
    return out


@dataclass(frozen=True)
class Ranking:
    order: np.ndarray  # row indices, best first
    score: np.ndarray  # combined score per row
    change: Change
    corr: np.ndarray  # best lagged correlation per row (NaN without a target)
    lag: np.ndarray  # its lag in steps (positive: the row moved first)
    anomaly: np.ndarray  # anomaly-rate shift per row (0 when unknown)


def rank_candidates(
    matrix: np.ndarray,
    *,
    split: int,
    target: np.ndarray | None = None,
    max_lag: int = 30,
    anomaly: np.ndarray | None = None,
    width: int = STEP_WIDTH,
) -> Ranking:
    """Rank rows of `matrix` (gaps filled, see fill_gaps) by how much they changed after `split`
    and, with a target, by how well their step-filtered signal leads or follows the target's.
    Score = change·(0.4 + 0.6·|lag-weighted corr|) + 0.2·anomaly-rate shift, in [0, ~1.2]."""
    rows = matrix.shape[0]
    change = change_scores(matrix, split)
    anomaly = np.zeros(rows) if anomaly is None else anomaly
    if target is None or rows == 0:
        corr = np.full(rows, np.nan)
        lag = np.zeros(rows, dtype=int)
        score = change.score + 0.2 * anomaly
    else:
        filtered = step_filter(np.vstack([target[None, :], matrix]), width)
        all_corr, lags = window_xcorr(filtered[0], filtered[1:], start=split, max_lag=max_lag)
        weights = lag_weights(lags, max_lag)
        corr, lag = best_lag(all_corr, lags)
        weighted = np.abs(corr) * weights[lag + max_lag]
        score = change.score * (0.4 + 0.6 * weighted) + 0.2 * anomaly
    score = np.nan_to_num(score, nan=0.0)
    order = np.argsort(-score, kind="stable")
    return Ranking(order=order, score=score, change=change, corr=corr, lag=lag, anomaly=anomaly.astype(float))


def correlation_matrix(
    rows: np.ndarray, cols: np.ndarray, *, max_lag: int, method: str = "diff"
) -> tuple[np.ndarray, np.ndarray]:
    """Best lagged correlation and its lag between every row series and every column series
    (gaps filled). method: diff (step-filtered differences), level (Pearson on values) or rank
    (Spearman on values). Returns (corr, lag), each of shape (len(rows), len(cols)); a positive
    lag means the row series moved first."""
    prepared = {"diff": lambda m: step_filter(m, 1 if m.shape[1] < 4 * STEP_WIDTH else STEP_WIDTH)}.get(method)
    if method == "rank":
        prepared = rank_transform
    elif method == "level":
        prepared = np.asarray
    r, c = prepared(rows), prepared(cols)
    corr = np.zeros((len(r), len(c)))
    lag = np.zeros((len(r), len(c)), dtype=int)
    for j in range(len(c)):
        all_corr, lags = lagged_xcorr(c[j], r, max_lag)
        corr[:, j], lag[:, j] = best_lag(all_corr, lags)
    return np.nan_to_num(corr), lag
