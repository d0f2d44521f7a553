"""The executive dashboard page, its CSV/PDF exports and the JSON API of its numbers. Thin: scope
to the caller's teams, validate the period, call bi.selectors.summary, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from bi import kpis, reports, selectors
from core.teams.auth import request_team_ids, scope_required
from core.teams.selectors import team_ids_for_user

DEFAULT_PERIOD = "30d"


def _bad_period(raw: str) -> str:
    return f"period: unknown value {raw!r}; use one of {', '.join(kpis.PERIODS)}"


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", DEFAULT_PERIOD)
    if period not in kpis.PERIODS:
        return HttpResponse(_bad_period(period), status=400, content_type="text/plain")
    summary = selectors.summary(team_ids=team_ids_for_user(user=request.user), period=period)
    data = kpis.summary_dict(summary)
    context = {
        "s": summary,
        "data": data,
        "periods": kpis.PERIOD_LABELS,
        "score_rows": reports.score_rows(data),
        **reports.formula(),
    }
    return render(request, "bi/dashboard.html", context)


@login_required
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    period = request.GET.get("period", DEFAULT_PERIOD)
    if period not in kpis.PERIODS:
        return HttpResponse(_bad_period(period), status=400, content_type="text/plain")
    summary = selectors.summary(team_ids=team_ids_for_user(user=request.user), period=period)
    if fmt == "csv":
        response = HttpResponse(reports.summary_csv(summary), content_type="text/csv")
    else:
        response = HttpResponse(reports.summary_pdf(summary), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{reports.file_name(summary)}.{fmt}"'
    return response


@extend_schema(
    parameters=[OpenApiParameter("period", str, enum=list(kpis.PERIODS), description="default 30d")],
    responses={200: dict},
)
@api_view(["GET"])
@permission_classes([scope_required("read")])
def summary_api(request: Request) -> Response:
    """The dashboard's numbers for the caller's teams (a token: its own team)."""
    period = request.query_params.get("period", DEFAULT_PERIOD)
    if period not in kpis.PERIODS:
        return Response({"error": _bad_period(period), "field": "period"}, status=400)
    summary = selectors.summary(team_ids=request_team_ids(request, "read"), period=period)
    return Response(kpis.summary_dict(summary))
