"""The values the capacity maths passes around."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DAY = 86400.0
HOUR = 3600.0
MONTH_DAYS = 30.4375


@dataclass(frozen=True)
class Change:
    ts: float
    kind: str  # reset or step
    size: float


@dataclass(frozen=True)
class Settings:
    """The constants chosen by cross-validation across shapes (bench/capacity_eval.py): how much
    the bootstrap spread is widened, the prior weight of a growth-rate change (hinge), and how
    long the data since the last change must be to be fitted without the segments before it."""

    inflate: float = 3.0
    hinge_prior: float = 0.1
    alone_days: float = 10.0
    min_history_days: float = 4.0


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
    period_days: float | None = None  # periodic resets (rotation, compaction): their period
    rate_change_at: float | None = None  # the most likely growth-rate change (unix seconds)
    notes: list[str] = field(default_factory=list)  # why the range is as wide as it is
    # Per path, how much earlier than its hourly means the curve may have got there: a mean
    # reaches a level up to a bucket after the curve it averages did (at the top of a ramp).
    lead: np.ndarray | None = None


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
