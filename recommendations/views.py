"""The recommendations page for leads (managers and admins), with accept and dismiss buttons."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.teams.selectors import team_ids_for_user
from recommendations.models import Decision
from recommendations.selectors import feed, items, summary
from recommendations.services import recommendation_decide


@login_required
def recommendations_page(request: HttpRequest) -> HttpResponse:
    team_ids = team_ids_for_user(user=request.user, min_role="manager")
    context = {"items": feed(team_ids=team_ids), "summary": summary(team_ids), "lead": bool(team_ids)}
    return render(request, "recommendations/feed.html", context)


@login_required
@require_POST
def recommendation_decide_page(request: HttpRequest, key: str, decision: str) -> HttpResponse:
    if decision not in Decision.Choice.values:
        raise Http404("no such decision")
    team_ids = team_ids_for_user(user=request.user, min_role="manager")
    item = next((i for i in items(team_ids=team_ids) if i.key == key), None)
    if item is None:
        raise Http404("no such recommendation")
    recommendation_decide(item=item, decision=decision, by=request.user)
    return redirect("recommendations")
