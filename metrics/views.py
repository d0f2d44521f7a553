from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.teams.selectors import team_ids_for_user
from metrics.selectors import series_latest, series_list

HOME_MAX_SERIES = 60


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The ingested series of the user's teams, each with a small live chart."""
    team_ids = team_ids_for_user(user=request.user)
    series = list(series_list(team_ids=team_ids)[:HOME_MAX_SERIES])
    latest = series_latest(series_ids=[s.id for s in series])
    rows = [{"series": s, "latest": latest.get(s.id)} for s in series]
    total = series_list(team_ids=team_ids).count()
    return render(request, "metrics/home.html", {"rows": rows, "total": total, "shown": len(rows)})
