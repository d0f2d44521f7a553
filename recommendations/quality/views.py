"""The noisy-rules page: the noisiest rules with their quality figures; leads (managers and
admins of the rule's team) also see a suggested change backed by the rule backtest."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.teams.selectors import team_ids_for_user
from recommendations.quality.selectors import PERIODS, quality
from recommendations.quality.suggestions import noisy_rules, suggestion


@login_required
def quality_page(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "30d")
    if period not in PERIODS:
        period = "30d"
    days = PERIODS[period]
    team_ids = team_ids_for_user(user=request.user)
    lead_ids = set(team_ids_for_user(user=request.user, min_role="manager"))
    rows = quality(team_ids=team_ids, days=days, by="rule")
    noisy = []
    for row, rule in noisy_rules(rows):
        shown = suggestion(rule=rule, row=row, days=days) if rule.team_id in lead_ids else None
        noisy.append({"row": row, "rule": rule, "suggestion": shown})
    teams = quality(team_ids=team_ids, days=days, by="team")
    context = {"period": period, "periods": list(PERIODS), "noisy": noisy, "teams": teams, "lead": bool(lead_ids)}
    return render(request, "quality/noisy.html", context)
