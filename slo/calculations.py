"""SLO maths: per-minute SLI extraction from rollups, window sums with the data-gap policy,
attainment, error budgets, burn rates, exhaustion, multi-window burn-rate tiers and monthly SLA
figures. Pure (numpy and the standard library), shared by live evaluation, pages, reports and
the benchmark. Definitions are in docs/slo.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from datetime import timedelta as td
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

MINUTE_S = 60
COUNTER_LOOKBACK_MIN = 60  # a cumulative counter silent for longer restarts its baseline
THIRTY_DAYS_S = 30 * 86400

BURN_WINDOWS: dict[str, int] = {
    "5m": 300,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
    "3d": 259200,
}
CURRENT_WINDOW = "5m"  # "current SLI"
EXHAUSTION_WINDOW = "1d"  # the burn rate that projects the exhaustion date

GOOD, BAD, UNKNOWN = "good", "bad", "unknown"
PAGE, TICKET = "page", "ticket"


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    kind: str  # page or ticket
    long: str
    short: str
    factor: float  # burn rate for a 30-day window (SRE Workbook, table 5-8)


TIERS = (
    Tier("page_fast", PAGE, "1h", "5m", 14.4),
    Tier("page_slow", PAGE, "6h", "30m", 6.0),
    Tier("ticket_fast", TICKET, "1d", "2h", 3.0),
    Tier("ticket_slow", TICKET, "3d", "6h", 1.0),
)
TIERS_BY_NAME = {t.name: t for t in TIERS}


# ---------------------------------------------------------------------------------------------
# Per-minute SLI from 1-minute rollups. Arrays are on a minute grid; NaN means "no data".


def counter_increase(last: np.ndarray) -> np.ndarray:
    """Events per minute of a cumulative counter from its per-minute `last` values.

    A minute with data counts last − last of the previous minute with data (a decrease is a
    reset: the minute counts its own value). With no earlier data within COUNTER_LOOKBACK_MIN
    minutes the minute counts 0 (a new counter). Minutes without data are NaN; the events of a
    gap show up in the first minute after it."""
    out = np.full(last.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(last))
    if len(idx) == 0:
        return out
    out[idx[0]] = 0.0
    if len(idx) > 1:
        cur, prev = idx[1:], idx[:-1]
        delta = last[cur] - last[prev]
        inc = np.where(delta >= 0, delta, last[cur])
        out[cur] = np.where(cur - prev <= COUNTER_LOOKBACK_MIN, inc, 0.0)
    return out


def sum_series(per_series: list[np.ndarray], length: int) -> np.ndarray:
    """Minute-wise sum over series; NaN where no series has data."""
    if not per_series:
        return np.full(length, np.nan)
    stack = np.vstack(per_series)
    present = ~np.isnan(stack)
    total = np.where(present, stack, 0.0).sum(axis=0)
    return np.where(present.any(axis=0), total, np.nan)


def event_minutes(good: np.ndarray | None, bad: np.ndarray | None, total: np.ndarray):
    """(good, total) per minute from summed good-or-bad and total event counts. A minute has
    data when the total has; good is clipped into [0, total]."""
    present = ~np.isnan(total)
    if good is None:
        good = total - np.nan_to_num(bad, nan=0.0)
    good = np.clip(np.nan_to_num(good, nan=0.0), 0.0, np.where(present, total, 0.0))
    return np.where(present, good, np.nan), total


def availability_minutes(avgs: list[np.ndarray], length: int):
    """Each minute with data is one unit; its good part is the mean `up` over the series that
    reported (values clipped to [0, 1])."""
    if not avgs:
        return np.full(length, np.nan), np.full(length, np.nan)
    stack = np.clip(np.vstack(avgs), 0.0, 1.0)
    present = ~np.isnan(stack)
    n = present.sum(axis=0)
    mean = np.where(present, stack, 0.0).sum(axis=0) / np.maximum(n, 1)
    has = n > 0
    return np.where(has, mean, np.nan), np.where(has, 1.0, np.nan)


def bound_minutes(avgs: list[np.ndarray], length: int, op: str, bound: float):
    """Each minute with data is one unit, good when the worst series' minute average is within
    the bound (`lte`: value <= bound, ...)."""
    if not avgs:
        return np.full(length, np.nan), np.full(length, np.nan)
    stack = np.vstack(avgs)
    present = ~np.isnan(stack)
    has = present.any(axis=0)
    if op in ("lte", "lt"):
        worst = np.where(present, stack, -np.inf).max(axis=0)
        ok = worst <= bound if op == "lte" else worst < bound
    else:
        worst = np.where(present, stack, np.inf).min(axis=0)
        ok = worst >= bound if op == "gte" else worst > bound
    return np.where(has, ok.astype(float), np.nan), np.where(has, 1.0, np.nan)


# ---------------------------------------------------------------------------------------------
# Window sums, gap policy, status.


@dataclass(frozen=True, slots=True)
class Sums:
    """What one window holds: good and total units over minutes with data, how many minutes
    had data, and how many minutes the window has."""

    good: float
    total: float
    observed: int
    minutes: int

    @property
    def gaps(self) -> int:
        return self.minutes - self.observed


def sums_of(good: np.ndarray, total: np.ndarray) -> Sums:
    present = ~np.isnan(total)
    return Sums(float(good[present].sum()), float(total[present].sum()), int(present.sum()), len(total))


def gap_fill(window: Sums, *, time_based: bool) -> float:
    """Units a gap minute stands for: one minute for time-based SLIs; for event SLIs the SLO
    window's mean events per observed minute."""
    if time_based:
        return 1.0
    return window.total / window.observed if window.observed else 0.0


def with_gaps(s: Sums, *, policy: str, fill: float) -> tuple[float, float]:
    """(good, total) units of a window after the gap policy."""
    extra = s.gaps * fill
    if policy == GOOD:
        return s.good + extra, s.total + extra
    if policy == BAD:
        return s.good, s.total + extra
    return s.good, s.total


def burn_rate(good: float, total: float, objective: float) -> float | None:
    """Error ratio ÷ allowed error ratio; None without events."""
    if total <= 0:
        return None
    return ((total - good) / total) / (1.0 - objective)


@dataclass
class Status:
    """Where an SLO stands at `as_of` (all ratios as fractions: 0.999 = 99.9 %)."""

    as_of: datetime
    window_start: datetime
    window_end: datetime  # end of the whole window (calendar month: month end; rolling: as_of)
    objective: float
    sli: float | None  # current: the last 5 minutes
    attainment: float | None
    good: float
    total: float
    budget_units: float
    consumed_units: float
    remaining_units: float
    budget_remaining: float  # fraction of the budget left (1.0 = untouched, < 0 = overspent)
    budget_s: float
    consumed_s: float
    remaining_s: float
    burn_rates: dict[str, float | None]
    events: dict[str, float]  # units per burn window (after the gap policy)
    exhausted: bool
    exhaustion_at: datetime | None
    gap_minutes: int = 0
    extra: dict = field(default_factory=dict)


def status_from_sums(
    *,
    window: Sums,
    burn: dict[str, Sums],
    objective: float,
    policy: str,
    time_based: bool,
    as_of: datetime,
    window_start: datetime,
    window_end: datetime,
) -> Status:
    """The status from window sums. Budget: (1 − objective) of the units expected in the whole
    window (units so far scaled by whole-window / elapsed time, which is 1 for rolling windows)."""
    fill = gap_fill(window, time_based=time_based)
    good, total = with_gaps(window, policy=policy, fill=fill)
    full_s = (window_end - window_start).total_seconds()
    elapsed_s = (as_of - window_start).total_seconds()
    expected = total * full_s / elapsed_s if elapsed_s > 0 else 0.0
    allowed = 1.0 - objective
    budget = allowed * expected
    consumed = total - good
    remaining = budget - consumed
    left = remaining / budget if budget > 0 else 1.0 if consumed <= 0 else -np.inf
    budget_s = allowed * full_s
    consumed_s = consumed / budget * budget_s if budget > 0 else 0.0
    rates, events = {}, {}
    for name, sums in burn.items():
        g, t = with_gaps(sums, policy=policy, fill=fill)
        rates[name], events[name] = burn_rate(g, t, objective), t
    current = with_gaps(burn[CURRENT_WINDOW], policy=policy, fill=fill) if CURRENT_WINDOW in burn else (0.0, 0.0)
    exhausted = left <= 0 and consumed > 0
    return Status(
        as_of=as_of,
        window_start=window_start,
        window_end=window_end,
        objective=objective,
        sli=current[0] / current[1] if current[1] > 0 else None,
        attainment=good / total if total > 0 else None,
        good=good,
        total=total,
        budget_units=budget,
        consumed_units=consumed,
        remaining_units=remaining,
        budget_remaining=float(left),
        budget_s=budget_s,
        consumed_s=consumed_s,
        remaining_s=budget_s - consumed_s,
        burn_rates=rates,
        events=events,
        exhausted=exhausted,
        exhaustion_at=None if exhausted else exhaustion(left, rates.get(EXHAUSTION_WINDOW), full_s, as_of, window_end),
        gap_minutes=window.gaps,
    )


def exhaustion(left: float, rate: float | None, full_s: float, as_of: datetime, window_end: datetime):
    """When the budget runs out if the recent burn rate holds: at burn rate 1 the whole budget
    lasts one window. None when nothing burns, or (calendar month) not before the month ends."""
    if rate is None or rate <= 0 or left <= 0:
        return None
    at = as_of + td(seconds=left * full_s / rate)
    if window_end > as_of and at >= window_end:
        return None
    return at


# ---------------------------------------------------------------------------------------------
# Burn-rate tiers.


def scaled_factor(factor: float, window_s: float) -> float:
    """The Workbook's factors are for 30 days; the same share of budget in the same time means a
    factor scaled by window length / 30 days."""
    return factor * window_s / THIRTY_DAYS_S


def tiers_tripped(
    *, rates: dict[str, float | None], events: dict[str, float], enabled: list[str], window_s: float, min_events: float
) -> list[str]:
    """Enabled tiers whose long and short windows both burn at or above the scaled factor,
    fastest first. Low-traffic protection: the long window needs at least `min_events` units."""
    out = []
    for tier in TIERS:
        if tier.name not in enabled:
            continue
        long_rate, short_rate = rates.get(tier.long), rates.get(tier.short)
        if long_rate is None or short_rate is None:
            continue
        if events.get(tier.long, 0.0) < min_events:
            continue
        threshold = scaled_factor(tier.factor, window_s)
        if long_rate >= threshold and short_rate >= threshold:
            out.append(tier.name)
    return out


def alerting_tiers(tripped: list[str]) -> tuple[str | None, str | None]:
    """(page tier, ticket tier) to alert on: the fastest tripped tier of each kind; any page
    inhibits the ticket, so one SLO pages once and is never also ticketed."""
    page = next((t for t in tripped if TIERS_BY_NAME[t].kind == PAGE), None)
    ticket = next((t for t in tripped if TIERS_BY_NAME[t].kind == TICKET), None)
    return page, None if page else ticket


# ---------------------------------------------------------------------------------------------
# Monthly SLA figures from per-minute data.


@dataclass
class SLAFigures:
    achieved: float | None
    downtime_minutes: float
    breaches: int  # separate downtime periods (consecutive downtime minutes form one)
    breached: bool
    credit_percent: float
    credit: Decimal


def downtime_per_minute(good: np.ndarray, total: np.ndarray, *, policy: str, time_based: bool, target: float):
    """Downtime of each minute (0..1). Time-based: its bad share. Event-based: 1 when the minute's
    own SLI is below the target. A gap minute is down only under the `bad` policy."""
    present = ~np.isnan(total)
    down = np.zeros(len(total))
    if time_based:
        down[present] = total[present] - good[present]
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            sli = np.where(present & (total > 0), good / np.where(total > 0, total, 1.0), 1.0)
        down[present] = (sli[present] < target).astype(float)
    if policy == BAD:
        down[~present] = 1.0
    return down


def runs(mask: np.ndarray) -> int:
    """Number of runs of True."""
    if len(mask) == 0:
        return 0
    m = mask.astype(np.int8)
    return int(m[0] + np.count_nonzero(np.diff(m) == 1))


def credit_for(achieved: float | None, tiers: list[dict], fee: Decimal) -> tuple[float, Decimal]:
    """The worst credit tier the month falls into: tiers are {"below": percent, "credit_percent": p}."""
    if achieved is None:
        return 0.0, Decimal("0.00")
    percent = max((float(t["credit_percent"]) for t in tiers if achieved * 100 < float(t["below"])), default=0.0)
    credit = (fee * Decimal(str(percent)) / Decimal(100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return percent, credit


def sla_figures(
    good: np.ndarray,
    total: np.ndarray,
    *,
    policy: str,
    time_based: bool,
    target: float,
    tiers: list[dict],
    fee: Decimal,
) -> SLAFigures:
    window = sums_of(good, total)
    g, t = with_gaps(window, policy=policy, fill=gap_fill(window, time_based=time_based))
    achieved = g / t if t > 0 else None
    down = downtime_per_minute(good, total, policy=policy, time_based=time_based, target=target)
    percent, credit = credit_for(achieved, tiers, fee)
    return SLAFigures(
        achieved=achieved,
        downtime_minutes=float(down.sum()),
        breaches=runs(down > 0),
        breached=achieved is not None and achieved < target,
        credit_percent=percent,
        credit=credit,
    )
