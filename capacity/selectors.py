"""Reads of capacity data. Other apps (the `capacity` alert rule kind) read capacity only
through these functions; capacity itself reads metrics and forecasts through their selectors."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timedelta as td
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db.models import F, QuerySet

from capacity.analysis.growth import MAX_FIT_DAYS
from capacity.analysis.history import mid_bucket
from capacity.models import Analysis, AnalysisRun, Resource, Scenario
from forecasting.selectors import latest_forecast
from metrics.selectors import buckets_many

HOUR = 3600


def resources_for_teams(*, team_ids: list[int]) -> QuerySet[Resource]:
    return Resource.objects.filter(team_id__in=team_ids).select_related("team", "series", "service", "analysis")


def fleet(*, team_ids: list[int]) -> list[Resource]:
    """The teams' resources, most at risk first (never analysed last)."""
    return list(resources_for_teams(team_ids=team_ids).order_by(F("analysis__risk").desc(nulls_last=True), "name"))


def rightsizing(*, team_ids: list[int]) -> list[tuple[Resource, Analysis]]:
    """The teams' resources whose latest analysis recommends scaling, most at risk first."""
    out = []
    for resource in fleet(team_ids=team_ids):
        analysis = getattr(resource, "analysis", None)
        if analysis is not None and analysis.status == Analysis.Status.OK and analysis.action.startswith("scale_"):
            out.append((resource, analysis))
    return out


def scenarios_for_teams(*, team_ids: list[int]) -> QuerySet[Scenario]:
    return Scenario.objects.filter(team_id__in=team_ids)


def analyses_for_series(*, series_ids: list[int], fresh_after: datetime | None = None) -> dict[int, list[Analysis]]:
    """Analyses of enabled resources watching these series (several resources may share one)."""
    qs = Analysis.objects.filter(
        resource__series_id__in=series_ids, resource__enabled=True, status=Analysis.Status.OK
    ).select_related("resource")
    if fresh_after is not None:
        qs = qs.filter(computed_at__gte=fresh_after)
    out: dict[int, list[Analysis]] = defaultdict(list)
    for analysis in qs:
        out[analysis.resource.series_id].append(analysis)
    return dict(out)


def history_many(*, series_ids: list[int], end: datetime, days: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Hourly means of each series over the last `days` (from the 1-hour rollups); the hour in
    progress comes from the 1-minute rollups, so a restart a few minutes ago is seen. Each mean
    is placed in the middle of its hour (of the part of the hour so far, for the hour in
    progress): the rollups stamp it at the start, and fitting it there put every forecast half
    an hour early."""
    start = end - td(days=days)
    hour = datetime.fromtimestamp(end.timestamp() // HOUR * HOUR, end.tzinfo)
    whole = buckets_many(series_ids=series_ids, start=start, end=hour, step_s=HOUR, source="1h")
    current = buckets_many(series_ids=series_ids, start=hour, end=end + td(minutes=1), step_s=HOUR, source="1m")
    out = {}
    for sid in series_ids:
        ts, values = whole.get(sid, (np.empty(0), np.empty(0)))
        if sid in current:
            ts = np.concatenate([ts, current[sid][0]])
            values = np.concatenate([values, current[sid][1]])
        if len(ts):
            out[sid] = (mid_bucket(ts, end=end.timestamp(), step=HOUR), values)
    return out


def history_days() -> float:
    """Days of hourly history to read: the setting, never more than the fit uses."""
    return float(min(settings.HIVEOPS_CAPACITY_HISTORY_DAYS, MAX_FIT_DAYS))


def engine_forecast(*, resource: Resource):
    """The forecasting engine's own daily forecast of the series (365 days), when it has one."""
    if resource.series_id is None:
        return None
    return latest_forecast(series_id=resource.series_id, kind="daily")


def latest_run(*, team_ids: list[int]) -> AnalysisRun | None:
    """The newest run that covered these teams (a team's own run or a run over every team)."""
    runs = AnalysisRun.objects.filter(team_id__in=team_ids) | AnalysisRun.objects.filter(team=None)
    return runs.order_by("-created_at").first()


@dataclass
class FleetSummary:
    resources: int = 0
    analysed: int = 0
    at_risk: int = 0
    exhausted: int = 0
    scale_up: int = 0
    scale_down: int = 0
    savings: dict[str, Decimal] = field(default_factory=dict)  # per currency, positive numbers
    extra_cost: dict[str, Decimal] = field(default_factory=dict)
    oldest_analysis: datetime | None = None


def fleet_summary(resources: list[Resource]) -> FleetSummary:
    """Totals over a fleet: monthly savings available (scale-downs), monthly cost of the scale-ups
    and how many resources are at risk (exhausted, or likely to run out within their horizon)."""
    summary = FleetSummary(resources=len(resources))
    for resource in resources:
        analysis = getattr(resource, "analysis", None)
        if analysis is None or analysis.status != Analysis.Status.OK:
            continue
        summary.analysed += 1
        summary.at_risk += analysis.at_risk
        summary.exhausted += analysis.exhausted
        change = analysis.monthly_cost_change
        if analysis.action == "scale_down":
            summary.scale_down += 1
            summary.savings[resource.currency] = summary.savings.get(resource.currency, Decimal(0)) - change
        elif analysis.action.startswith("scale_"):
            summary.scale_up += 1
            summary.extra_cost[resource.currency] = summary.extra_cost.get(resource.currency, Decimal(0)) + change
        if summary.oldest_analysis is None or analysis.computed_at < summary.oldest_analysis:
            summary.oldest_analysis = analysis.computed_at
    return summary
