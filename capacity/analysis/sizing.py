"""Right-sizing with cost, scenarios and the risk order of the fleet."""

from __future__ import annotations

import math

import numpy as np

from capacity.analysis.exhaustion import quantile
from capacity.analysis.types import DAY, MONTH_DAYS, Exhaustion, Fit, Recommendation, Scenario, Sizing


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
    end = int(np.searchsorted(fit.times, fit.times[0] + window_days * DAY + 1, side="right"))
    paths = fit.paths[:, :end]  # a view: the grid is in time order
    if factor is None:
        peaks = paths.max(axis=1) / (capacity * scale)
        mean = fit.mean[:end]
    else:
        peaks = (paths * factor[:end]).max(axis=1) / (capacity * scale)
        mean = fit.mean[:end] * factor[:end]
    at = float(fit.times[int(np.argmax(mean))])
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
