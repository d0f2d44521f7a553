"""The feed: one list of items from six sources, each with evidence (text and link) and an
estimated impact, minus what the team dismissed. Every source reads other apps through their
selectors; an item's key is kind : object : coarse evidence bucket."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from alerts.selectors import incidents_by_id, open_forecast_alerts, services_for_teams
from capacity.selectors import rightsizing
from paging.selectors import coverage_gaps, policies_with_rotations, route_coverage
from recommendations import impact
from recommendations.models import Decision
from recommendations.quality.selectors import quality
from recommendations.quality.suggestions import cached, noisy_rules
from slo.selectors import slos_for_teams, statuses

KINDS = ("slo_at_risk", "forecast_breach", "coverage_gap", "unowned_service", "capacity", "noisy_rule")
SLO_AT_RISK = 0.25  # budget remaining under a quarter, or exhaustion expected before the window ends
GAP_DAYS = 14
NOISY_PER_WEEK = 1.0


@dataclass
class Item:
    key: str
    team_id: int
    kind: str
    title: str
    evidence: str
    link: str
    money_per_month: Decimal | None = None  # positive = saved, negative = extra cost
    currency: str = ""
    downtime_minutes: float | None = None
    pages_avoided: float | None = None
    estimate: str = ""  # how the impact was estimated
    decision: str = ""

    def as_dict(self) -> dict:
        out = asdict(self)
        out["money_per_month"] = str(self.money_per_month) if self.money_per_month is not None else None
        return out


def capacity_items(team_ids: list[int]) -> list[Item]:
    out = []
    for resource, analysis in rightsizing(team_ids=team_ids):
        money = -analysis.monthly_cost_change
        out.append(
            Item(
                key=f"capacity:{resource.uid}:{analysis.action}:{impact.doubling_bucket(float(money))}",
                team_id=resource.team_id,
                kind="capacity",
                title=f"{analysis.action_label.capitalize()} {resource.name} to {analysis.new_allocation:g}"
                if analysis.new_allocation is not None
                else f"{analysis.action_label.capitalize()} {resource.name}",
                evidence=analysis.reason or analysis.eta,
                link=reverse("capacity-resource", args=[resource.uid]),
                money_per_month=money,
                currency=resource.currency,
                estimate="monthly cost change of the capacity right-sizing (allocation change × unit cost)",
            )
        )
    return out


def slo_items(team_ids: list[int], now: datetime) -> list[Item]:
    slos = list(slos_for_teams(team_ids=team_ids))
    out = []
    found = statuses(slos) if slos else {}
    for slo in slos:
        status = found.get(slo.id)
        if status is None or status.total <= 0:
            continue
        exhausting = status.exhaustion_at is not None and status.exhaustion_at < status.window_end
        if status.budget_remaining >= SLO_AT_RISK and not exhausting:
            continue
        minutes = impact.projected_overspend_minutes(
            consumed_s=status.consumed_s,
            budget_s=status.budget_s,
            window_start=status.window_start,
            as_of=status.as_of,
            window_end=status.window_end,
        )
        when = f", exhausted by {status.exhaustion_at:%Y-%m-%d %H:%M} UTC at this burn" if exhausting else ""
        out.append(
            Item(
                key=f"slo:{slo.uid}:{impact.quarter_bucket(status.budget_remaining)}",
                team_id=slo.team_id,
                kind="slo_at_risk",
                title=f"Protect the error budget of {slo.name}",
                evidence=f"{status.budget_remaining:.0%} of the error budget left{when}",
                link=reverse("slo-detail", args=[slo.uid]),
                downtime_minutes=round(minutes, 1),
                estimate="minutes of error budget the current burn would overspend by the window's end "
                "(linear projection)",
            )
        )
    return out


def forecast_items(team_ids: list[int]) -> list[Item]:
    alerts = open_forecast_alerts(team_ids=team_ids, limit=50)
    incidents = incidents_by_id(ids={a.incident_id for a in alerts if a.incident_id})
    out = []
    for alert in alerts:
        incident = incidents.get(alert.incident_id)
        link = reverse("incident", args=[incident.uid]) if incident else reverse("console")
        out.append(
            Item(
                key=f"forecast:{alert.uid}",
                team_id=alert.team_id,
                kind="forecast_breach",
                title=f"Act before the predicted breach: {alert.summary}"[:300],
                evidence=f"open forecast-breach alert since {alert.first_seen:%Y-%m-%d %H:%M} UTC"
                + (f" ({alert.service.name})" if alert.service_id else ""),
                link=link,
                pages_avoided=1.0,
                estimate="the page the breach would send; downtime is not estimated",
            )
        )
    return out


def noisy_items(team_ids: list[int], now: datetime) -> list[Item]:
    rows = quality(team_ids=team_ids, days=30, by="rule", now=now)
    out = []
    for row, rule in noisy_rules(rows):
        q = row.quality
        if q.noise < NOISY_PER_WEEK:
            continue
        found = cached(rule=rule, days=30) or {}
        chosen = found.get("chosen")
        avoided = impact.pages_avoided(
            pages=q.pages,
            baseline=found.get("baseline") if chosen else None,
            fired=chosen["fired"] if chosen else None,
            auto_resolved=q.auto_resolved,
        )
        change = f": {chosen['label']} ({chosen['effect']})" if chosen else ""
        out.append(
            Item(
                key=f"noisy:{rule.uid}:{impact.doubling_bucket(q.per_week)}",
                team_id=rule.team_id,
                kind="noisy_rule",
                title=f"Tune the rule {rule.name}{change}"[:300],
                evidence=f"{q.per_week:.1f} alerts/week, {q.auto_resolved or 0:.0%} resolved with nobody acting, "
                f"{q.flap_rate or 0:.0%} flapping, {q.pages} pages in 30 days",
                link=reverse("quality"),
                pages_avoided=round(avoided, 1),
                estimate="pages in 30 days × the backtested cut in firings (or × the auto-resolved share "
                "when no backtest is cached)",
            )
        )
    return out


def unowned_items(team_ids: list[int]) -> list[Item]:
    routed, catch_all = route_coverage(team_ids=team_ids)
    out = []
    for service in services_for_teams(team_ids=team_ids):
        if service.id in routed or service.team_id in catch_all:
            continue
        out.append(
            Item(
                key=f"unowned:{service.uid}",
                team_id=service.team_id,
                kind="unowned_service",
                title=f"Give {service.name} an owner: an escalation route",
                evidence="no escalation route names this service and the team has no catch-all route, "
                "so its incidents page nobody",
                link=reverse("console") + f"?service={service.slug}",
                estimate="incidents of this service reach no one; impact not estimated",
            )
        )
    return out


def gap_items(team_ids: list[int], now: datetime) -> list[Item]:
    policies, rotations = policies_with_rotations(team_ids=team_ids)
    gap_hours = {}
    for rotation_id, rotation in rotations.items():
        gaps = coverage_gaps(rotation=rotation, start=now, days=GAP_DAYS)
        hours = sum((b - a).total_seconds() for a, b in gaps) / 3600
        if hours > 0:
            gap_hours[rotation_id] = (hours, gaps[0][0])
    out = []
    for policy in policies:
        for level in policy.levels.all():
            if level.rotation_id not in gap_hours:
                continue
            hours, first = gap_hours[level.rotation_id]
            rotation = rotations[level.rotation_id]
            out.append(
                Item(
                    key=f"gap:{policy.id}:{rotation.id}:{impact.doubling_bucket(hours)}",
                    team_id=policy.team_id,
                    kind="coverage_gap",
                    title=f"Cover the gaps of {rotation.name} (policy {policy.name})",
                    evidence=f"{hours:.0f} hours with nobody on call in the next {GAP_DAYS} days, "
                    f"the first from {first:%Y-%m-%d %H:%M} UTC",
                    link=reverse("oncall"),
                    estimate="pages in a gap reach nobody at this level; impact not estimated",
                )
            )
    return out


def items(*, team_ids: list[int], now: datetime | None = None) -> list[Item]:
    """Every item of the teams, decided ones included (with `decision` set)."""
    now = now or timezone.now()
    found = [
        *slo_items(team_ids, now),
        *forecast_items(team_ids),
        *gap_items(team_ids, now),
        *unowned_items(team_ids),
        *capacity_items(team_ids),
        *noisy_items(team_ids, now),
    ]
    decided = {
        (team_id, key): choice
        for team_id, key, choice in Decision.objects.filter(team_id__in=team_ids).values_list(
            "team_id", "key", "decision"
        )
    }
    for item in found:
        item.decision = decided.get((item.team_id, item.key), "")
    order = {kind: i for i, kind in enumerate(KINDS)}
    found.sort(
        key=lambda i: (
            i.decision == Decision.Choice.ACCEPTED,
            order[i.kind],
            -(i.money_per_month or 0),
            -(i.downtime_minutes or 0),
            -(i.pages_avoided or 0),
        )
    )
    return found


def feed(*, team_ids: list[int], now: datetime | None = None) -> list[Item]:
    """The feed as shown: dismissed items hidden, accepted ones last."""
    return [i for i in items(team_ids=team_ids, now=now) if i.decision != Decision.Choice.DISMISSED]


def summary(team_ids: list[int]) -> dict:
    """For the executive dashboard: open (undecided) items, monthly savings available per currency
    and pages avoided per month if every open item were done."""
    open_items = [i for i in feed(team_ids=team_ids) if not i.decision]
    savings: dict[str, Decimal] = {}
    for i in open_items:
        if i.money_per_month is not None and i.money_per_month > 0:
            savings[i.currency] = savings.get(i.currency, Decimal(0)) + i.money_per_month
    pages = sum(i.pages_avoided or 0 for i in open_items)
    return {"count": len(open_items), "monthly_savings": savings, "pages_avoided": round(pages, 1)}
