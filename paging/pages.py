"""Responder pages: the operator console (live feed, service health, on call) and the incident
page (timeline, related alerts, charts; large buttons for phones). Reads through
paging.console; actions go through the JSON API from the page's script."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from alerts.models import Incident
from alerts.services import snooze
from core.teams.selectors import team_ids_for_user
from paging import console
from paging.selectors import paging_status, paging_statuses, paging_timeline

TIMELINE_MAX = 200


def _feed_context(request: HttpRequest) -> dict:
    team_ids = team_ids_for_user(user=request.user)
    filters = console.Filters.from_query(request.GET)
    groups = console.open_alert_groups(team_ids=team_ids)
    incidents = console.open_incidents(team_ids=team_ids, filters=filters)
    statuses = paging_statuses(incidents=incidents)
    for incident in incidents:
        incident.paging = statuses[incident.id]
    return {
        "filters": filters,
        "counts": console.severity_counts(groups=groups),
        "snooze_choices": list(snooze.LABELS.items()),
        "incidents": incidents,
        "alerts": console.open_alerts(team_ids=team_ids, filters=filters),
        "health": console.service_health(team_ids=team_ids, groups=groups),
        "max_rows": console.MAX_ROWS,
    }


@login_required
def console_page(request: HttpRequest) -> HttpResponse:
    team_ids = team_ids_for_user(user=request.user)
    context = _feed_context(request)
    context.update(
        oncall=console.on_call_now(team_ids=team_ids, at=timezone.now()),
        services=console.services_for(team_ids=team_ids),
        severities=console.SEVERITIES,
    )
    return render(request, "paging/console.html", context)


@login_required
def console_feed(request: HttpRequest) -> HttpResponse:
    """The live part of the console, re-fetched by the page when an event arrives."""
    return render(request, "paging/_feed.html", _feed_context(request))


@login_required
def incident_page(request: HttpRequest, uid: str) -> HttpResponse:
    incident = (
        Incident.objects.filter(team_id__in=team_ids_for_user(user=request.user), uid=uid)
        .select_related("service", "assignee", "acknowledged_by", "resolved_by", "team")
        .first()
    )
    if incident is None:
        raise Http404("no such incident in your teams")
    alerts = list(incident.alerts.select_related("series", "rule", "service").order_by("-last_seen")[:50])
    events = list(incident.events.select_related("actor").order_by("-at")[:TIMELINE_MAX])
    return render(
        request,
        "paging/incident.html",
        {
            "incident": incident,
            "alerts": alerts,
            "events": events,
            "series": list({a.series_id: a.series for a in alerts if a.series_id}.values())[:6],
            "needs_note": incident.team.require_resolution_note,
            "paging": paging_status(incident=incident),
            "paging_rows": paging_timeline(incident=incident, limit=TIMELINE_MAX),
            "snooze_choices": list(snooze.LABELS.items()),
        },
    )
