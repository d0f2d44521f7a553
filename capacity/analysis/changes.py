"""Change points, and telling periodic resets (log rotation, compaction, scheduled restarts)
from one-off changes.

Changes are looked for in the series less its daily profile, so a business day's rise and fall
is not taken for a step and a reset every day."""

from __future__ import annotations

import numpy as np

from capacity.analysis.types import DAY, HOUR, Change

JUMP_SIGMAS = 6.0
WINDOW = 6  # points on each side of a candidate change
MIN_JUMP = 0.05  # a change must move the level by at least 5 % of the limit
ALONE_DAYS = 10.0  # a segment this long is fitted on its own (Settings.alone_days)
POOL_SEGMENTS = 5
# Periodic resets: gaps between resets agree within this share of their median (a missed reset
# counts as a gap of two periods); two resets only count when they are a day or a week apart.
PERIOD_TOLERANCE = 0.1
SCHEDULED_DAYS = (1.0, 7.0)
BLIP_DAYS = 2.0
SHARP_SIGMAS = 8.0


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


def daily_profile(ts: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The typical departure of each hour of the day (weekdays and weekends apart) from the
    series' running mean (over a week once the history covers 9 days, so the weekend's lower
    level is part of the profile, else over a day), evaluated at every point; zero when the
    history is under 3 days."""
    n = len(y)
    span = (ts[-1] - ts[0]) / DAY if n else 0.0
    if n < 72 or span < 3:
        return np.zeros(n)
    spacing = max(float(np.median(np.diff(ts))), 1.0)
    half = round((3.5 if span >= 9 else 0.5) * DAY / spacing)
    c = np.concatenate([[0.0], np.cumsum(y)])
    i = np.arange(n)
    lo, hi = np.maximum(0, i - half), np.minimum(n, i + half + 1)
    departure = y - (c[hi] - c[lo]) / (hi - lo)
    key = hour_key(ts)
    # A mean per hour of the week-part after clipping each departure to 3 robust deviations of
    # its distance from its hour's median. Clipping around one bound for all hours flattened a
    # business day's plateau (the spread of all departures is the night's noise, not the day's
    # height); clipping around each hour's mean let a counter's wrap pull the means.
    counts = np.bincount(key, minlength=48)
    middle = key_medians(key, departure, counts)[key]
    bound = 3 * max(robust_sd(departure - middle), 1e-9)
    clipped = middle + np.clip(departure - middle, -bound, bound)
    means = np.bincount(key, weights=clipped, minlength=48) / np.maximum(counts, 1)
    return np.where(counts[key] >= 2, means[key], 0.0)


def key_medians(key: np.ndarray, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The (lower) median of the values of each key, from one sort (a median per key in a loop
    was a fifth of a fit's time); 0 for a key without values."""
    ordered = values[np.lexsort((values, key))]
    starts = np.cumsum(counts) - counts
    out = np.zeros(len(counts))
    has = counts > 0
    out[has] = ordered[starts[has] + (counts[has] - 1) // 2]
    return out


def hour_key(ts: np.ndarray) -> np.ndarray:
    """Hour of the day (UTC), plus 24 at weekends."""
    days = np.floor(ts / DAY)
    weekend = np.mod(days + 3, 7) >= 5  # 1970-01-01 was a Thursday
    return (np.floor(np.mod(ts, DAY) / HOUR) + 24 * weekend).astype(int)


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
    return without_blips(runs_over(ts, i, d, np.abs(d) > bar))


def without_blips(changes: list[tuple[int, Change]]) -> list[tuple[int, Change]]:
    """Drop a fall undone by a rise of about the same size within BLIP_DAYS (a holiday, an
    outage), and a rise undone by a fall (a batch job): the level came back, nothing changed."""
    out: list[tuple[int, Change]] = []
    for index, change in changes:
        if out:
            _, last = out[-1]
            undone = last.kind != change.kind and abs(last.size + change.size) <= 0.35 * abs(last.size)
            if undone and change.ts - last.ts <= BLIP_DAYS * DAY:
                out.pop()
                continue
        out.append((index, change))
    return out


def runs_over(ts, i, d, over) -> list[tuple[int, Change]]:
    """One change per run of positions over the bar, at its largest difference."""
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
        if not changes or index - changes[-1][0] >= WINDOW:
            size = float(d[peak])
            changes.append((index, Change(float(ts[index]), "reset" if size < 0 else "step", size)))
        at = end + 1
    return changes


def sharp_changes(ts: np.ndarray, y: np.ndarray, *, limit: float) -> list[tuple[int, Change]]:
    """Falls and rises within two points (over SHARP_SIGMAS robust deviations of such
    two-point differences, and MIN_JUMP of the limit): what a rotation or a restart looks like
    in hourly means. The window detector misses these when they repeat daily (half its
    positions then straddle one), and they are what tells a sawtooth from a business day."""
    if len(y) < 2 * WINDOW + 1:
        return []
    z = despike(y)
    d2 = z[2:] - z[:-2]
    bar = max(SHARP_SIGMAS * robust_sd(d2), MIN_JUMP * abs(limit) if limit else 0.0, 1e-12)
    out: list[tuple[int, Change]] = []
    for k in np.flatnonzero(np.abs(d2) > bar):
        if 0 < k < len(d2) - 1 and abs(d2[k]) < max(abs(d2[k - 1]), abs(d2[k + 1])):
            continue  # not the sharpest of its neighbours
        index = int(k) + 1
        if out and index - out[-1][0] < 3:
            continue
        size = float(d2[k])
        out.append((index, Change(float(ts[index]), "reset" if size < 0 else "step", size)))
    return out


def sharpest_drop(y: np.ndarray, index: int) -> int:
    """The first point after the largest fall near a detected reset (the detector's position
    can be a point off)."""
    lo, hi = max(1, index - 2), min(len(y) - 1, index + 2)
    if hi < lo:
        return index
    return lo + int(np.argmin(np.diff(y)[lo - 1 : hi]))


def periodic_resets(ts: np.ndarray, found: list[tuple[int, Change]]) -> float | None:
    """The period in days when the resets repeat on a schedule, else None. Resets must
    outnumber rises four to one (a business day rises as often as it falls), repeat at a steady
    interval (a missed one counts as two periods), and still be happening."""
    resets = np.array([c.ts for _, c in found if c.kind == "reset"])
    steps = sum(c.kind == "step" for _, c in found)
    if len(resets) < 2 or steps * 4 > len(resets):
        return None
    gaps = np.diff(resets) / DAY
    period = float(np.min(gaps[gaps >= 0.5 * np.median(gaps)]))
    ratio = gaps / period
    if np.any(np.abs(ratio - np.round(ratio)) > PERIOD_TOLERANCE):
        return None
    period = float(np.sum(gaps) / np.sum(np.round(ratio)))
    if len(resets) == 2 and not any(abs(period - s) <= 0.04 * s for s in SCHEDULED_DAYS):
        return None
    if (ts[-1] - resets[-1]) / DAY > 1.5 * period:
        return None
    return period


def segments_for_fit(
    n: int, ts: np.ndarray, cuts: list[int], *, alone_days: float = ALONE_DAYS
) -> tuple[int, list[int]]:
    """(first index used, segment starts inside it): the last segment, pooled with earlier ones
    (each its own level, one growth rate) while it is shorter than `alone_days`."""
    starts = [0, *cuts]
    chosen = [starts[-1]]
    for start in reversed(starts[:-1]):
        span = (ts[-1] - ts[chosen[0]]) / DAY
        if span >= alone_days or len(chosen) >= POOL_SEGMENTS:
            break
        chosen.insert(0, start)
    # A pooled segment too short to say anything is dropped (a blip between two changes).
    kept = [s for i, s in enumerate(chosen) if i == len(chosen) - 1 or (chosen[i + 1] - s) >= 3]
    return kept[0], kept
