"""Capacity pages: the fleet table sorted by risk, with totals and the analysis status, and the
resource page with history, forecast band, limit line, recommendation and scenarios."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from capacity import services
from capacity.models import Resource, Scenario
from capacity.selectors import engine_forecast, fleet, fleet_summary, history_many, latest_run, resources_for_teams
from core.teams.models import Team
from core.teams.selectors import team_ids_for_user

ANALYSE_ROLE = "responder"  # the API's analysis runs need the write scope


def resource_or_404(team_ids: list[int], uid) -> Resource:
    resource = resources_for_teams(team_ids=team_ids).filter(uid=uid).first()
    if resource is None:
        raise Http404("no such resource")
    return resource


def chart_data(resource: Resource, *, days: int, now: datetime) -> dict:
    """History (hourly means), the stored forecast band, the engine's daily forecast, the limit
    and target lines and the detected changes, as plain lists for the chart."""
    data = history_many(series_ids=[resource.series_id], end=now, days=days) if resource.series_id else {}
    ts, values = data.get(resource.series_id, (np.empty(0), np.empty(0)))
    analysis = getattr(resource, "analysis", None)
    details = analysis.details if analysis is not None else {}
    engine = engine_forecast(resource=resource)
    engine_data = None
    if engine is not None:
        times = engine.start.timestamp() + engine.step_s * np.arange(len(engine.mean))
        engine_data = {
            "model": engine.model,
            "times": times.tolist(),
            "mean": engine.mean,
            "lo": engine.lo80,
            "hi": engine.hi80,
        }
    return {
        "history": {"times": ts.tolist(), "values": [float(v) for v in values]},
        "band": details.get("band"),
        "engine": engine_data,
        "limit": resource.limit,
        "target": resource.target_utilization / 100 * resource.capacity,
        "floor": resource.scale_down_floor / 100 * resource.capacity,
        "changes": details.get("changes", []),
        "unit": resource.series.unit if resource.series_id else "",
    }


@login_required
def fleet_page(request: HttpRequest) -> HttpResponse:
    team_ids = team_ids_for_user(user=request.user)
    resources = fleet(team_ids=team_ids)
    context = {
        "resources": resources,
        "summary": fleet_summary(resources),
        "run": latest_run(team_ids=team_ids) if team_ids else None,
        "teams": Team.objects.filter(id__in=team_ids),
        "can_analyse": bool(team_ids_for_user(user=request.user, min_role=ANALYSE_ROLE)),
    }
    return render(request, "capacity/fleet.html", context)


@login_required
@require_POST
def analyse_now(request: HttpRequest) -> HttpResponse:
    """A fresh analysis for the teams where the user may act (responder or above, as in the API)."""
    teams = Team.objects.filter(id__in=team_ids_for_user(user=request.user, min_role=ANALYSE_ROLE))
    if not teams:
        return HttpResponseForbidden(f"asking for an analysis needs the {ANALYSE_ROLE} role or above in a team")
    for team in teams:
        services.run_create(team=team, user=request.user)
    return redirect("capacity-fleet")


@login_required
def resource_page(request: HttpRequest, uid) -> HttpResponse:
    resource = resource_or_404(team_ids_for_user(user=request.user), uid)
    scenarios = list(Scenario.objects.filter(team=resource.team))
    comparison = services.scenarios_compare(resource=resource, scenarios=[s.as_calc() for s in scenarios])
    context = {
        "resource": resource,
        "analysis": getattr(resource, "analysis", None),
        "comparison": comparison,
        "chart": chart_data(resource, days=30, now=timezone.now()),
    }
    return render(request, "capacity/resource.html", context)
