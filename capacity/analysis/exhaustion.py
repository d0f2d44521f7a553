"""When the limit is reached: first crossings of the bootstrap paths, their quantiles, the
sentence people read, and how far the range can be trusted (confidence and reason)."""

from __future__ import annotations

import math

import numpy as np

from capacity.analysis.types import DAY, Exhaustion, Fit


def crossing_times(times: np.ndarray, paths: np.ndarray, threshold: float) -> np.ndarray:
    """Seconds from times[0] to each path's first value ≥ threshold (linear between grid points;
    inf when it never gets there)."""
    out = np.full(len(paths), np.inf)
    rows = np.flatnonzero(paths.max(axis=1) >= threshold)  # most paths of most resources never get there
    if not len(rows):
        return out
    i = np.argmax(paths[rows] >= threshold, axis=1)
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
    end = int(np.searchsorted(fit.times, fit.times[0] + horizon_s + 1, side="right"))
    paths = fit.paths[:, :end] if factor is None else fit.paths[:, :end] * factor[:end]  # a view, or a copy
    if fit.level * (factor[0] if factor is not None else 1.0) >= threshold:
        return Exhaustion(0.0, 0.0, 0.0, 1.0, horizon_s, now=True)
    cross = crossing_times(fit.times[:end], paths, threshold)
    if fit.lead is not None:
        cross = np.maximum(0.0, cross - fit.lead)

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


LABELS = ("low", "medium", "high")


def range_confidence(fit: Fit, ex: Exhaustion) -> tuple[str, str]:
    """How far the p10–p90 range can be trusted ("high", "medium", "low") and why, for the page,
    the API and the digest: short history, a change with little data since, a growth rate that
    may have changed, or a range that is wide for its date all lower it."""
    level, reasons = 2, list(fit.notes)
    now = float(fit.times[0])
    if fit.history_days < 7:
        level = min(level, 1)
        reasons.append(f"only {fit.history_days:.1f} days of history")
    recent = [c for c in fit.changes if now - c.ts < 2 * DAY]
    if recent and fit.period_days is None:
        level = 0
        reasons.append(f"a {recent[-1].kind} {span(now - recent[-1].ts)} ago leaves little data since")
    hinge = fit.weights.get("hinge", 0.0)
    if fit.rate_change_at is not None and 0.2 <= hinge < 0.8:
        level = 0
    if ex.now or ex.p50 is None:
        if not ex.now and ex.probability >= 0.1:
            level = min(level, 1)
            reasons.append(f"{ex.probability:.0%} of the paths reach the limit within {ex.horizon_s / DAY:g} days")
    else:
        upper = ex.p90 if ex.p90 is not None else ex.horizon_s
        width = (upper - (ex.p10 or 0.0)) / max(ex.p50, 1.0)
        if width > 1.0:
            level = 0
            reasons.append(f"the range is wide ({width:.0%} of the median)")
        elif width > 0.5:
            level = min(level, 1)
            reasons.append(f"the range spans {width:.0%} of the median")
    if not reasons:
        reasons.append("steady growth, no recent change")
    return LABELS[level], "; ".join(reasons)[:400]
