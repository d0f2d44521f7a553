"""Alert-quality maths over plain facts: rates, medians, off-hours and sleep-hours pages, the
noise score and the choice of a suggested rule change. No Django here."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

WORKDAY_START, WORKDAY_END = 8, 18  # off-hours: outside 08–18 local, Monday to Friday
SLEEP_START, SLEEP_END = 22, 7  # sleep hours: 22–07 local, every day
DELETE_AUTO_SHARE = 0.9


@dataclass(frozen=True)
class AlertFacts:
    fired_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    flapping: bool = False
    duplicate: bool = False  # occurrences > 1 or reopened
    human: bool = False  # someone (a user, not a rule or the system) acted on it


@dataclass(frozen=True)
class Page:
    at: datetime
    timezone: str | None  # the responder's; None for a page to a channel (no person)


@dataclass
class Quality:
    alerts: int
    per_week: float
    auto_resolved: float | None
    flap_rate: float | None
    duplicate_rate: float | None
    acknowledged: int
    median_ack_s: float | None
    median_resolve_s: float | None
    pages: int
    shifts: int
    pages_per_shift: float | None
    off_hours_pages: int
    sleep_pages: int
    noise: float

    def as_dict(self) -> dict:
        return asdict(self)


def off_hours(local: datetime) -> bool:
    return local.weekday() >= 5 or not WORKDAY_START <= local.hour < WORKDAY_END


def sleep_hours(local: datetime) -> bool:
    return local.hour >= SLEEP_START or local.hour < SLEEP_END


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def noise_score(per_week: float, auto_resolved: float | None, flap_rate: float | None) -> float:
    """Alerts per week that nobody needed: the weekly count times the larger of the share that
    resolved on its own and the share that flapped."""
    return per_week * max(auto_resolved or 0.0, flap_rate or 0.0)


def quality_of(alerts: list[AlertFacts], pages: list[Page], *, days: float, shifts: int = 0) -> Quality:
    n = len(alerts)
    auto = sum(1 for a in alerts if a.resolved_at is not None and not a.human)
    acked = [a for a in alerts if a.acknowledged_at is not None]
    resolved = [a for a in alerts if a.resolved_at is not None]
    per_week = n / days * 7 if days > 0 else 0.0
    auto_share, flap = share(auto, n), share(sum(a.flapping for a in alerts), n)
    person_pages = [(p.at.astimezone(zone(p.timezone))) for p in pages if p.timezone is not None]
    return Quality(
        alerts=n,
        per_week=per_week,
        auto_resolved=auto_share,
        flap_rate=flap,
        duplicate_rate=share(sum(a.duplicate for a in alerts), n),
        acknowledged=len(acked),
        median_ack_s=median([(a.acknowledged_at - a.fired_at).total_seconds() for a in acked]),
        median_resolve_s=median([(a.resolved_at - a.fired_at).total_seconds() for a in resolved]),
        pages=len(pages),
        shifts=shifts,
        pages_per_shift=len(pages) / shifts if shifts else None,
        off_hours_pages=sum(off_hours(local) for local in person_pages),
        sleep_pages=sum(sleep_hours(local) for local in person_pages),
        noise=noise_score(per_week, auto_share, flap),
    )


# Suggested rule changes. Each candidate is replayed by the rule backtest; the pure part picks.


@dataclass(frozen=True)
class Candidate:
    change: str  # "for", "threshold" or "delete"
    value: float | None  # minutes for `for`, the new threshold, None for delete
    fired: int  # what the backtest says the rule would have fired with the change

    @property
    def label(self) -> str:
        if self.change == "for":
            return f"add `for` of {self.value:g} minutes"
        if self.change == "threshold":
            return f"raise the threshold to {self.value:.4g}"
        return "delete the rule"


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolation percentile (q in 0–100) of the values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def raised_threshold(short_peaks: list[float], *, current: float, higher_is_worse: bool) -> float | None:
    """A threshold past the 90th percentile of the peaks of short firings (the spikes), so that
    most spikes no longer cross it; None when it would not move past the current threshold."""
    if higher_is_worse:
        value = percentile(short_peaks, 90)
        return value if value is not None and value > current else None
    value = percentile(short_peaks, 10)
    return value if value is not None and value < current else None


def may_delete(*, auto_resolved: float | None, acknowledged: int) -> bool:
    return auto_resolved is not None and auto_resolved >= DELETE_AUTO_SHARE and acknowledged == 0


def choose(baseline: int, candidates: list[Candidate]) -> Candidate | None:
    """The candidate that cuts most firings (the first listed on a tie, so list the gentlest
    first); a delete wins when it is offered; None when nothing would have fired less."""
    deletes = [c for c in candidates if c.change == "delete"]
    if deletes:
        return deletes[0]
    better = [c for c in candidates if c.fired < baseline]
    if not better:
        return None
    return min(better, key=lambda c: c.fired)
