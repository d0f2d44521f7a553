"""What the executive dashboard shows, as plain dataclasses, and the pure maths behind it: periods,
revenue impact, the business health score and its JSON form. No Django imports; the queries are
in bi.selectors. Definitions (with the weights) are in docs/bi.md and on the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo

# ------------------------------------------------------------------------------------------------
# Periods.

PERIODS = ("7d", "30d", "90d", "quarter")
PERIOD_LABELS = {"7d": "7 days", "30d": "30 days", "90d": "90 days", "quarter": "quarter to date"}
DAYS = {"7d": 7, "30d": 30, "90d": 90}


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    name: str
    start: datetime
    end: datetime
    previous_start: datetime
    previous_end: datetime
    bucket: str  # "day" or "week" (trend resolution)

    @property
    def label(self) -> str:
        return PERIOD_LABELS[self.name]

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    @property
    def days(self) -> float:
        return self.minutes / 1440


def quarter_start(at: datetime) -> datetime:
    return datetime(at.year, 3 * ((at.month - 1) // 3) + 1, 1, tzinfo=UTC)


def period_for(name: str, now: datetime) -> Period:
    """`7d`/`30d`/`90d`: the last N days up to now, compared with the N days before. `quarter`: the
    calendar quarter (UTC) to date, compared with the same length from the previous quarter's start."""
    if name not in PERIODS:
        raise PeriodError(f"period must be one of {', '.join(PERIODS)}")
    now = now.astimezone(UTC)
    if name == "quarter":
        start = quarter_start(now)
        previous_start = quarter_start(start - td(days=1))
        return Period(name, start, now, previous_start, previous_start + (now - start), "week")
    length = td(days=DAYS[name])
    return Period(name, now - length, now, now - 2 * length, now - length, "day" if DAYS[name] <= 30 else "week")


def bucket_starts(period: Period) -> list[datetime]:
    """Trend buckets covering the period: UTC days, or ISO weeks (Monday 00:00 UTC)."""
    first = period.start.replace(hour=0, minute=0, second=0, microsecond=0)
    step = td(days=1)
    if period.bucket == "week":
        first -= td(days=first.weekday())
        step = td(days=7)
    out = []
    at = first
    while at < period.end:
        out.append(at)
        at += step
    return out


# ------------------------------------------------------------------------------------------------
# Revenue impact.

# Share of a service's revenue lost per minute of an open incident, by incident priority: a P1 is
# a full outage, a P2 a severe degradation, and so on down to P5 (no customer impact).
DEGRADATION = {1: 1.0, 2: 0.5, 3: 0.25, 4: 0.1, 5: 0.0}


def revenue_impact(rows: list[tuple[float, int, float]]) -> float:
    """Sum of revenue per minute × impact minutes × DEGRADATION[priority] over
    (revenue_per_minute, priority, impact_minutes) rows."""
    return sum(rpm * DEGRADATION.get(priority, 0.0) * minutes for rpm, priority, minutes in rows)


# ------------------------------------------------------------------------------------------------
# Health score.

WEIGHTS = {"slo": 35, "incidents": 25, "response": 15, "revenue": 15, "risk": 10}
INCIDENT_POINTS = {1: 20, 2: 10, 3: 4, 4: 1, 5: 0}  # points lost per incident per 30 days
MTTA_TARGET_MIN = 15.0
MTTR_TARGET_MIN = 240.0
REVENUE_LOSS_FOR_ZERO = 0.05  # losing 5 % of the revenue at stake scores 0
RISK_POINTS = 20  # per open top risk

COMPONENT_LABELS = {
    "slo": "SLO error budgets",
    "incidents": "Incidents",
    "response": "Response (MTTA/MTTR)",
    "revenue": "Revenue protected",
    "risk": "Open risks",
}


def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return max(lo, min(hi, x))


def slo_component(budgets_left: list[float]) -> float | None:
    """Mean of each SLO's error budget left over the period (clamped to 0..1), × 100."""
    if not budgets_left:
        return None
    return 100 * sum(clamp(b) for b in budgets_left) / len(budgets_left)


def incidents_component(by_priority: dict[int, int], days: float) -> float:
    points = sum(INCIDENT_POINTS.get(p, 0) * n for p, n in by_priority.items())
    return max(0.0, 100 - points * 30 / max(days, 1e-9))


def response_component(mtta_min: float | None, mttr_min: float | None) -> float | None:
    parts = [
        clamp(target / actual) if actual > 0 else 1.0
        for target, actual in ((MTTA_TARGET_MIN, mtta_min), (MTTR_TARGET_MIN, mttr_min))
        if actual is not None
    ]
    return 100 * sum(parts) / len(parts) if parts else None


def revenue_component(impact: float, at_stake: float) -> float | None:
    if at_stake <= 0:
        return None
    return 100 * clamp(1 - (impact / at_stake) / REVENUE_LOSS_FOR_ZERO)


def risk_component(open_risks: int) -> float:
    return max(0.0, 100.0 - RISK_POINTS * open_risks)


@dataclass
class Health:
    score: int | None
    components: dict[str, float | None]  # 0..100, None: no data (left out, weights renormalised)


def health_score(components: dict[str, float | None]) -> Health:
    """Weighted mean of the components that have data, rounded to a whole number."""
    have = {k: v for k, v in components.items() if v is not None}
    weight = sum(WEIGHTS[k] for k in have)
    if not weight:
        return Health(None, components)
    return Health(round(sum(WEIGHTS[k] * v for k, v in have.items()) / weight), components)


# ------------------------------------------------------------------------------------------------
# Figures.


@dataclass
class Figures:
    """One period's figures for the caller's teams."""

    incidents_by_priority: dict[int, int]
    mtta_min: float | None
    mttr_min: float | None
    impact_minutes: float  # incident minutes inside the period (unweighted)
    revenue_impact: float
    revenue_at_stake: float
    customers_affected: list[str]
    slo_met: int
    slo_total: int
    slo_budgets_left: list[float]
    sla_met: int
    sla_total: int
    customers_in_breach: list[str] = field(default_factory=list)
    observed_minutes: int = 0  # minutes of SLO data inside the period, over all SLOs

    @property
    def has_data(self) -> bool:
        """Whether anything was measured in the period: SLO data or an incident. Without either
        a score would only restate its defaults (no incidents = 100), so none is shown."""
        return self.observed_minutes > 0 or self.incidents > 0 or self.impact_minutes > 0

    @property
    def incidents(self) -> int:
        return sum(self.incidents_by_priority.values())

    @property
    def slo_attainment_percent(self) -> float | None:
        return 100 * self.slo_met / self.slo_total if self.slo_total else None

    @property
    def sla_attainment_percent(self) -> float | None:
        return 100 * self.sla_met / self.sla_total if self.sla_total else None


def health_of(figures: Figures, days: float, open_risks: int) -> Health:
    """The period's score, or no score (every component None) when the period has no data."""
    if not figures.has_data:
        return Health(None, dict.fromkeys(WEIGHTS))
    return health_score(
        {
            "slo": slo_component(figures.slo_budgets_left),
            "incidents": incidents_component(figures.incidents_by_priority, days),
            "response": response_component(figures.mtta_min, figures.mttr_min),
            "revenue": revenue_component(figures.revenue_impact, figures.revenue_at_stake),
            "risk": risk_component(open_risks),
        }
    )


@dataclass
class SLORow:
    uid: str
    name: str
    service: str
    objective: float  # percent
    attainment: float | None  # percent over the period
    previous_attainment: float | None
    budget_left: float | None  # fraction of the period's error budget left (< 0: overspent)
    budget_now: float | None  # the SLO's own window, now

    @property
    def met(self) -> bool | None:
        return None if self.attainment is None else self.attainment >= self.objective


@dataclass
class SLARow:
    customer: str
    name: str
    target: float  # percent
    attainment: float | None  # percent over the period (window_start .. window_end)
    window_start: datetime | None = None
    window_end: datetime | None = None
    # The contract's own window: the SLA's calendar month so far, in its time zone (the SLA
    # report's figure for that month).
    month_attainment: float | None = None
    month_start: datetime | None = None
    month_end: datetime | None = None
    timezone: str = "UTC"

    @property
    def month_label(self) -> str:
        """The contract month, named on the SLA's own calendar ("March 2026")."""
        if self.month_start is None:
            return ""
        return f"{self.month_start.astimezone(ZoneInfo(self.timezone)):%B %Y}"

    @property
    def month_met(self) -> bool | None:
        return None if self.month_attainment is None else self.month_attainment >= self.target

    @property
    def met(self) -> bool | None:
        return None if self.attainment is None else self.attainment >= self.target


RISK_KINDS = {"forecast": "Predicted breach", "slo": "Error budget", "capacity": "Capacity"}


def metric_words(metric: str) -> str:
    """A metric name as words: "http_errors_total" -> "Http errors total"."""
    words = metric.replace("_", " ").replace(":", " ").strip()
    return words[:1].upper() + words[1:]


@dataclass
class RiskRow:
    kind: str  # forecast, slo or capacity
    title: str
    service: str
    probability: float | None
    eta: datetime | None


@dataclass
class TrendPoint:
    start: datetime
    incidents: int
    mtta_min: float | None
    mttr_min: float | None


@dataclass
class Summary:
    period: Period
    generated_at: datetime
    currency: str
    current: Figures
    previous: Figures
    health: Health
    previous_health: Health
    slos: list[SLORow]
    slas: list[SLARow]
    risks: list[RiskRow]
    trend: list[TrendPoint]
    capacity_available: bool
    notes: list[str] = field(default_factory=list)
    # Open items of the recommendations feed: {"count", "monthly_savings": {currency: amount}, "pages_avoided"}
    recommendations: dict = field(default_factory=dict)


def trend_summary(trend: list[TrendPoint]) -> dict:
    """What the trend holds, for a sentence instead of rows of zeros: buckets with incidents,
    and how many of them have an MTTA or MTTR."""
    return {
        "buckets": len(trend),
        "with_incidents": sum(1 for t in trend if t.incidents),
        "with_mtta": sum(1 for t in trend if t.mtta_min is not None),
        "with_mttr": sum(1 for t in trend if t.mttr_min is not None),
    }


def change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None:
        return None
    return current - previous


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def figures_dict(f: Figures) -> dict:
    return {
        "incidents": f.incidents,
        "incidents_by_priority": {f"P{p}": f.incidents_by_priority.get(p, 0) for p in range(1, 6)},
        "mtta_minutes": _r(f.mtta_min),
        "mttr_minutes": _r(f.mttr_min),
        "impact_minutes": _r(f.impact_minutes),
        "revenue_impact": _r(f.revenue_impact),
        "revenue_at_stake": _r(f.revenue_at_stake),
        "customers_affected": len(f.customers_affected),
        "customers": f.customers_affected,
        "customers_in_breach": f.customers_in_breach,
        "has_data": f.has_data,
        "slo_met": f.slo_met,
        "slo_total": f.slo_total,
        "slo_attainment_percent": _r(f.slo_attainment_percent),
        "sla_met": f.sla_met,
        "sla_total": f.sla_total,
        "sla_attainment_percent": _r(f.sla_attainment_percent),
    }


def health_dict(h: Health) -> dict:
    return {"score": h.score, "components": {k: _r(v, 1) for k, v in h.components.items()}}


def _slo_dict(r: SLORow) -> dict:
    return {
        "id": r.uid,
        "name": r.name,
        "service": r.service,
        "objective": r.objective,
        "attainment": _r(r.attainment, 4),
        "previous_attainment": _r(r.previous_attainment, 4),
        "budget_left": _r(r.budget_left, 4),
        "budget_now": _r(r.budget_now, 4),
        "met": r.met,
    }


def _sla_dict(r: SLARow) -> dict:
    return {
        "customer": r.customer,
        "name": r.name,
        "target": r.target,
        "attainment": _r(r.attainment, 4),
        "met": r.met,
        "window_start": _iso(r.window_start),
        "window_end": _iso(r.window_end),
        "month_attainment": _r(r.month_attainment, 4),
        "month_met": r.month_met,
        "month_start": _iso(r.month_start),
        "month_end": _iso(r.month_end),
        "timezone": r.timezone,
        "month": r.month_label,
    }


def _risk_dict(r: RiskRow) -> dict:
    return {
        "kind": r.kind,
        "kind_label": RISK_KINDS.get(r.kind, r.kind),
        "title": r.title,
        "service": r.service,
        "probability": _r(r.probability, 3),
        "eta": _iso(r.eta),
    }


def summary_dict(s: Summary) -> dict:
    """The JSON form (the API, the page's live refresh and the CSV read the same numbers)."""
    p = s.period
    return {
        "period": {
            "name": p.name,
            "label": p.label,
            "start": _iso(p.start),
            "end": _iso(p.end),
            "previous_start": _iso(p.previous_start),
            "previous_end": _iso(p.previous_end),
            "bucket": p.bucket,
        },
        "generated_at": _iso(s.generated_at),
        "currency": s.currency,
        "health": health_dict(s.health),
        "previous_health": health_dict(s.previous_health),
        "current": figures_dict(s.current),
        "previous": figures_dict(s.previous),
        "slos": [_slo_dict(r) for r in s.slos],
        "slas": [_sla_dict(r) for r in s.slas],
        "risks": [_risk_dict(r) for r in s.risks],
        "trend": [
            {
                "start": _iso(t.start),
                "incidents": t.incidents,
                "mtta_minutes": _r(t.mtta_min),
                "mttr_minutes": _r(t.mttr_min),
            }
            for t in s.trend
        ],
        "trend_summary": trend_summary(s.trend),
        "capacity_available": s.capacity_available,
        "notes": s.notes,
        "recommendations": {
            "count": s.recommendations.get("count", 0),
            "monthly_savings": {k: str(v) for k, v in s.recommendations.get("monthly_savings", {}).items()},
            "pages_avoided": s.recommendations.get("pages_avoided", 0),
        },
    }
