"""KPI queries of the executive dashboard. Reads only, through the other apps' selectors, every
query limited to the caller's teams; aggregation happens in PostgreSQL so the cost does not
grow with the number of alerts. The maths is in bi.kpis."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import timedelta as td

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least, Trunc
from django.utils import timezone

from alerts.selectors import incidents_for_teams, open_forecast_alerts, services_for_teams
from bi import kpis
from capacity.selectors import resources_for_teams
from recommendations.selectors import summary as feed_summary
from slo import calculations as slo_calc
from slo.selectors import settled_end, slas_for_teams, slos_for_teams, statuses, window_sums
from slo.windows import month_bounds, month_of

logger = logging.getLogger(__name__)

RISK_LIMIT = 10
SLO_RISK_HORIZON = td(days=7)  # an SLO whose budget runs out within this is a top risk
NO_CAPACITY = "Capacity planning is not available: no capacity risks are shown."


def _minutes(value: td | None) -> float | None:
    return None if value is None else value.total_seconds() / 60


def _priority():
    return Coalesce("priority_override", "priority")


def incident_figures(*, team_ids: list[int], start: datetime, end: datetime) -> dict:
    """Counts by priority, MTTA and MTTR of incidents opened in [start, end), and the impact
    minutes inside [start, end) of every incident overlapping it, per (service, priority)."""
    incidents = incidents_for_teams(team_ids=team_ids)
    opened = incidents.filter(opened_at__gte=start, opened_at__lt=end)
    by_priority = {
        r["p"]: r["n"] for r in opened.annotate(p=_priority()).values("p").annotate(n=Count("id")).order_by()
    }
    means = opened.aggregate(tta=Avg("time_to_acknowledge"), ttr=Avg("time_to_resolve"))
    overlapping = incidents.filter(opened_at__lt=end).filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=start))
    overlap = ExpressionWrapper(
        Least(Coalesce("resolved_at", Value(end)), Value(end)) - Greatest("opened_at", Value(start)),
        output_field=DurationField(),
    )
    impact = list(
        overlapping.annotate(p=_priority(), overlap=overlap)
        .values("service_id", "service__revenue_per_minute", "p")
        .annotate(minutes=Sum("overlap"))
        .order_by()
    )
    rows = [
        (float(r["service__revenue_per_minute"] or 0), r["p"], max(0.0, _minutes(r["minutes"]) or 0.0)) for r in impact
    ]
    return {
        "by_priority": by_priority,
        "mtta": _minutes(means["tta"]),
        "mttr": _minutes(means["ttr"]),
        "impact_minutes": sum(m for _, _, m in rows),
        "revenue_impact": kpis.revenue_impact(rows),
        "services_hit": {r["service_id"] for r, (_, _, m) in zip(impact, rows, strict=True) if r["service_id"] and m},
    }


def trend(*, team_ids: list[int], period: kpis.Period) -> list[kpis.TrendPoint]:
    """Incidents opened, MTTA and MTTR per day (7/30 days) or week (90 days, quarter)."""
    starts = kpis.bucket_starts(period)
    rows = (
        incidents_for_teams(team_ids=team_ids)
        .filter(opened_at__gte=period.start, opened_at__lt=period.end)
        .annotate(b=Trunc("opened_at", period.bucket, tzinfo=UTC))
        .values("b")
        .annotate(n=Count("id"), tta=Avg("time_to_acknowledge"), ttr=Avg("time_to_resolve"))
        .order_by()
    )
    found = {r["b"]: r for r in rows}
    return [
        kpis.TrendPoint(
            s,
            found[s]["n"] if s in found else 0,
            _minutes(found[s]["tta"]) if s in found else None,
            _minutes(found[s]["ttr"]) if s in found else None,
        )
        for s in starts
    ]


@dataclass
class SLOPeriods:
    """One SLO over the period and the previous one: attainment (percent), budget left (fraction)
    and observed minutes, plus its status now (its own window)."""

    attainment: float | None = None
    budget_left: float | None = None
    observed: int = 0
    previous_attainment: float | None = None
    previous_budget_left: float | None = None
    previous_observed: int = 0
    status: object | None = None


def _attainment(slo, sums: tuple[float, float, int] | None, minutes: int) -> tuple[float | None, float | None]:
    """(attainment percent, budget left fraction) of one SLO over a window, after its gap policy:
    the same maths as the SLA report's (slo.calculations.sla_figures)."""
    good, total, observed = sums or (0.0, 0.0, 0)
    s = slo_calc.Sums(good, total, observed, minutes)
    g, t = slo_calc.with_gaps(s, policy=slo.gap_policy, fill=slo_calc.gap_fill(s, time_based=slo.time_based))
    if t <= 0:
        return None, None
    allowed = (1 - slo.objective_ratio) * t
    return 100 * g / t, (1 - (t - g) / allowed) if allowed > 0 else None


def _minutes_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60))


def slo_rows(*, team_ids: list[int], period: kpis.Period, now: datetime):
    """Each enabled SLO's attainment over the period and the previous one (one query for both),
    its current budget (own window). Returns the rows and a SLOPeriods per SLO id."""
    slos = list(slos_for_teams(team_ids=team_ids).filter(enabled=True).select_related("service"))
    end = min(period.end, settled_end(now))
    prev_end = min(period.previous_end, end)
    windows = []
    for slo in slos:
        windows.append((slo.id, 0, period.start, end))
        windows.append((slo.id, 1, period.previous_start, prev_end))
    sums = window_sums(windows) if windows else {}
    current_status = statuses(slos, end=settled_end(now)) if slos else {}
    minutes = _minutes_between(period.start, end)
    prev_minutes = _minutes_between(period.previous_start, prev_end)
    rows, by_slo = [], {}
    for slo in slos:
        now_sums, prev_sums = sums.get((slo.id, 0)), sums.get((slo.id, 1))
        att, left = _attainment(slo, now_sums, minutes)
        prev_att, prev_left = _attainment(slo, prev_sums, prev_minutes)
        status = current_status.get(slo.id)
        row = kpis.SLORow(
            str(slo.uid),
            slo.name,
            slo.service.name if slo.service_id else "",
            slo.objective,
            att,
            prev_att,
            left,
            status.budget_remaining if status and status.total > 0 else None,
        )
        rows.append(row)
        by_slo[slo.id] = SLOPeriods(
            att, left, now_sums[2] if now_sums else 0, prev_att, prev_left, prev_sums[2] if prev_sums else 0, status
        )
    return rows, by_slo


def sla_month_attainment(slas: list, *, now: datetime) -> dict[int, tuple[float | None, datetime, datetime]]:
    """Each SLA's contract month so far (its calendar month in its time zone, up to the settled
    end): (attainment percent, start, end) per SLA id, from one query. The SLA report computes
    the same window from per-minute arrays with the same gap maths, so the numbers are equal."""
    end = settled_end(now)
    windows, bounds = [], {}
    for k, sla in enumerate(slas):
        start, month_end = month_bounds(*month_of(end, sla.timezone), sla.timezone)
        stop = min(month_end, end)
        bounds[sla.id] = (k, start, stop)
        if stop > start:
            windows.append((sla.slo_id, k, start, stop))
    sums = window_sums(windows) if windows else {}
    out = {}
    for sla in slas:
        k, start, stop = bounds[sla.id]
        att, _ = _attainment(sla.slo, sums.get((sla.slo_id, k)), _minutes_between(start, stop))
        out[sla.id] = (att, start, stop)
    return out


def sla_rows(*, team_ids: list[int], by_slo: dict, period: kpis.Period, now: datetime) -> tuple[list, list, list]:
    """SLAs judged on their SLO's attainment over the period (current and previous, the same
    sums as the SLO rows) and over their contract month so far, plus (service id, customer) pairs
    for "customers affected"."""
    slas = list(slas_for_teams(team_ids=team_ids).filter(slo__enabled=True).select_related("slo"))
    month = sla_month_attainment(slas, now=now)
    end = min(period.end, settled_end(now))
    current, previous, customers = [], [], []
    for sla in slas:
        periods = by_slo.get(sla.slo_id, SLOPeriods())
        month_att, month_start, month_end = month[sla.id]
        current.append(
            kpis.SLARow(
                sla.customer,
                sla.name,
                sla.target,
                periods.attainment,
                window_start=period.start,
                window_end=end,
                month_attainment=month_att,
                month_start=month_start,
                month_end=month_end,
                timezone=sla.timezone,
            )
        )
        previous.append(kpis.SLARow(sla.customer, sla.name, sla.target, periods.previous_attainment))
        customers.append((sla.slo.service_id, sla.customer))
    return current, previous, customers


def capacity_risks(*, team_ids: list[int], now: datetime) -> list[kpis.RiskRow] | None:
    """Resources that are exhausted or more likely than not to run out within their horizon,
    from capacity.selectors."""
    at_risk = (
        resources_for_teams(team_ids=team_ids)
        .filter(enabled=True, analysis__status="ok")
        .filter(Q(analysis__exhausted=True) | Q(analysis__probability__gte=0.5))
        .select_related("service", "analysis")
        .order_by("-analysis__risk")[:RISK_LIMIT]
    )
    out = []
    for resource in at_risk:
        a = resource.analysis
        state = "is out of capacity" if a.exhausted else "is likely to run out of capacity"
        title = f"{resource.name} {state}"
        service = resource.service.name if resource.service_id else ""
        eta = now if a.exhausted else a.exhaust_at("p50")
        out.append(kpis.RiskRow("capacity", title, service, 1.0 if a.exhausted else a.probability, eta))
    return out


def forecast_sentence(alert) -> str:
    """A predicted breach in words ("Error rate is forecast to go above 5"), not the series
    selector the alert's summary carries."""
    rule = alert.rule
    notes = alert.annotations or {}
    metric = kpis.metric_words(rule.metric if rule is not None else "") or "A forecast metric"
    threshold = getattr(rule, "critical_threshold", None)
    rising = getattr(rule, "comparator", "gt") in ("gt", "gte")
    if threshold is None:
        return f"{metric} is forecast to breach its threshold"
    if notes.get("breached") == "true":
        return f"{metric} is {'above' if rising else 'below'} {threshold:g} now"
    return f"{metric} is forecast to go {'above' if rising else 'below'} {threshold:g}"


def risks(*, team_ids: list[int], by_slo: dict[int, SLOPeriods], slos: list[kpis.SLORow], now: datetime):
    """Top risks: predicted breaches (open forecast-breach alerts), SLOs whose error budget is
    exhausted or runs out within SLO_RISK_HORIZON at the recent burn rate, and capacity."""
    out = []
    for alert in open_forecast_alerts(team_ids=team_ids, limit=RISK_LIMIT):
        notes = alert.annotations or {}
        try:
            probability = float(notes.get("breach_probability", ""))
        except ValueError:
            probability = None
        eta = datetime.fromisoformat(notes["breach_eta"]) if notes.get("breach_eta") else None
        service = alert.service.name if alert.service_id else ""
        out.append(kpis.RiskRow("forecast", forecast_sentence(alert), service, probability, eta))
    for row, periods in zip(slos, by_slo.values(), strict=True):
        status = periods.status
        if status is None or status.total <= 0:
            continue
        if status.exhausted:
            out.append(kpis.RiskRow("slo", f"{row.name}: error budget used up", row.service, 1.0, status.as_of))
        elif status.exhaustion_at is not None and status.exhaustion_at <= now + SLO_RISK_HORIZON:
            out.append(
                kpis.RiskRow("slo", f"{row.name}: error budget runs out", row.service, None, status.exhaustion_at)
            )
    capacity = capacity_risks(team_ids=team_ids, now=now)
    out += capacity or []
    far = datetime.max.replace(tzinfo=UTC)
    out.sort(key=lambda r: (r.eta or far, -(r.probability or 0)))
    return out[:RISK_LIMIT], capacity is not None


def revenue_at_stake(*, team_ids: list[int], minutes: float) -> float:
    per_minute = services_for_teams(team_ids=team_ids).aggregate(s=Sum(F("revenue_per_minute")))["s"]
    return float(per_minute or 0) * minutes


def _figures(inc: dict, stake: float, slos: list[tuple], slas: list[kpis.SLARow], customers) -> kpis.Figures:
    """One period's figures. `slos` are (attainment, budget left, objective, observed minutes).
    Customers affected: those of an SLA missed over the period, and those of a service that had
    an incident open in it."""
    judged = [(att, left) for att, left, _, _ in slos if att is not None]
    in_breach = sorted({r.customer for r in slas if r.met is False})
    hit = {c for sid, c in customers if sid in inc["services_hit"]}
    return kpis.Figures(
        incidents_by_priority=inc["by_priority"],
        mtta_min=inc["mtta"],
        mttr_min=inc["mttr"],
        impact_minutes=inc["impact_minutes"],
        revenue_impact=inc["revenue_impact"],
        revenue_at_stake=stake,
        customers_affected=sorted(hit | set(in_breach)),
        customers_in_breach=in_breach,
        slo_met=sum(1 for att, _, objective, _ in slos if att is not None and att >= objective),
        slo_total=len(judged),
        slo_budgets_left=[left for _, left in judged if left is not None],
        sla_met=sum(1 for r in slas if r.met),
        sla_total=sum(1 for r in slas if r.met is not None),
        observed_minutes=sum(observed for _, _, _, observed in slos),
    )


RECOMMENDATIONS_CACHE_S = 300


def recommendations_summary(team_ids: list[int]) -> dict:
    """The feed's open items, cached for 5 minutes: building the feed (quality analytics over every
    alert, SLO statuses, capacity) took 1.3 s with 100,000 alerts, ten times the rest of the page."""
    key = "bi:recommendations:" + ",".join(map(str, sorted(team_ids)))
    try:
        cached = cache.get(key)
    except Exception:  # Redis away: compute it
        cached = None
    if cached is not None:
        return cached
    value = feed_summary(team_ids)
    try:
        cache.set(key, value, RECOMMENDATIONS_CACHE_S)
    except Exception:
        logger.warning("recommendations summary not cached (Redis away?)")
    return value


def summary(*, team_ids: list[int], period: str, now: datetime | None = None) -> kpis.Summary:
    """Every figure of the dashboard for `period` (7d, 30d, 90d, quarter) and the one before it.
    Raises kpis.PeriodError for an unknown period."""
    now = now or timezone.now()
    p = kpis.period_for(period, now)
    slo_list, by_slo = slo_rows(team_ids=team_ids, period=p, now=now)
    slas, prev_slas, customers = sla_rows(team_ids=team_ids, by_slo=by_slo, period=p, now=now)
    top, capacity_ok = risks(team_ids=team_ids, by_slo=by_slo, slos=slo_list, now=now)
    periods = list(by_slo.values())
    current = _figures(
        incident_figures(team_ids=team_ids, start=p.start, end=p.end),
        revenue_at_stake(team_ids=team_ids, minutes=p.minutes),
        [(r.attainment, r.budget_left, r.objective, v.observed) for r, v in zip(slo_list, periods, strict=True)],
        slas,
        customers,
    )
    previous = _figures(
        incident_figures(team_ids=team_ids, start=p.previous_start, end=p.previous_end),
        revenue_at_stake(team_ids=team_ids, minutes=p.minutes),
        [
            (v.previous_attainment, v.previous_budget_left, r.objective, v.previous_observed)
            for r, v in zip(slo_list, periods, strict=True)
        ],
        prev_slas,
        customers,
    )
    return kpis.Summary(
        period=p,
        generated_at=now,
        currency=settings.HIVEOPS_BI_CURRENCY,
        current=current,
        previous=previous,
        health=kpis.health_of(current, p.days, len(top)),
        previous_health=kpis.health_of(previous, p.days, len(top)),
        slos=slo_list,
        recommendations=recommendations_summary(team_ids),
        slas=slas,
        risks=top,
        trend=trend(team_ids=team_ids, period=p),
        capacity_available=capacity_ok,
        notes=[] if capacity_ok else [NO_CAPACITY],
    )
