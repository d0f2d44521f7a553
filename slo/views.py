"""SLO pages: the list (sorted by remaining budget), the detail page with SLI and budget
burn-down charts, and the monthly SLA report as HTML, CSV and PDF."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.teams.selectors import team_ids_for_user
from core.timeparse import ParamError
from core.timeparse import month as parse_month
from slo import reports
from slo.selectors import slas_for_teams, slo_history, slos_for_teams, statuses
from slo.windows import month_of, previous_month


def budget_order(status) -> float:
    return status.budget_remaining if status.budget_remaining is not None else float("inf")


@login_required
def slo_list(request: HttpRequest) -> HttpResponse:
    slos = list(slos_for_teams(team_ids=team_ids_for_user(user=request.user)))
    by_id = statuses(slos)
    rows = sorted(({"slo": s, "status": by_id[s.id]} for s in slos), key=lambda r: budget_order(r["status"]))
    return render(request, "slo/list.html", {"rows": rows})


@login_required
def slo_detail(request: HttpRequest, uid) -> HttpResponse:
    slo = slos_for_teams(team_ids=team_ids_for_user(user=request.user)).filter(uid=uid).first()
    if slo is None:
        raise Http404("no such SLO")
    status = statuses([slo])[slo.id]
    burn = [{"window": k, "rate": v, "events": status.events.get(k)} for k, v in status.burn_rates.items()]
    context = {
        "slo": slo,
        "status": status,
        "burn": burn,
        "history": slo_history(slo, status),
        "slas": slo.slas.all(),
    }
    return render(request, "slo/detail.html", context)


def _month(request: HttpRequest) -> tuple[int, int]:
    raw = request.GET.get("month")
    if not raw:
        return previous_month(*month_of(timezone.now(), "UTC"))
    return parse_month(raw)


@login_required
def sla_report(request: HttpRequest) -> HttpResponse:
    """?month=YYYY-MM (default: last month) &format=html|csv|pdf."""
    try:
        year, month = _month(request)
    except ParamError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    fmt = request.GET.get("format", "html")
    if fmt not in ("html", "csv", "pdf"):
        return HttpResponse("format: must be html, csv or pdf", status=400, content_type="text/plain")
    rows = reports.sla_report(
        slas=slas_for_teams(team_ids=team_ids_for_user(user=request.user)), year=year, month=month
    )
    name = f"sla-report-{year:04d}-{month:02d}"
    if fmt == "csv":
        response = HttpResponse(reports.report_csv(rows, year, month), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "pdf":
        response = HttpResponse(reports.report_pdf(rows, year, month), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    context = {"rows": rows, "month": f"{year:04d}-{month:02d}", "month_start": date(year, month, 1)}
    return render(request, "slo/report.html", context)
