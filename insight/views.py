"""The technical ↔ business correlation page (linked from the executive dashboard). Thin: read
the form, resolve series by metric name within the user's teams, call insight.selectors."""

from __future__ import annotations

from datetime import timedelta as td

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.teams.selectors import team_ids_for_user
from insight import selectors
from metrics.selectors import series_for_teams

PERIODS = {"6h": td(hours=6), "24h": td(hours=24), "7d": td(days=7)}
PAGE_ROWS = 100
PAGE_COLUMNS = 20


def _names(raw: str) -> list[str]:
    return [n.strip() for n in raw.split(",") if n.strip()]


def _cell_style(value: float | None) -> str:
    if value is None:
        return ""
    alpha = min(1.0, abs(value))
    color = "229,72,77" if value > 0 else "48,164,108"
    return f"background: rgba({color},{alpha:.2f})"


@login_required
def correlations_page(request: HttpRequest) -> HttpResponse:
    team_ids = team_ids_for_user(user=request.user)
    rows_raw, cols_raw = request.GET.get("rows", ""), request.GET.get("columns", "")
    period = request.GET.get("period", "24h")
    method = request.GET.get("method", "diff")
    context = {
        "rows_raw": rows_raw,
        "cols_raw": cols_raw,
        "period": period,
        "periods": list(PERIODS),
        "method": method,
        "metrics": list(series_for_teams(team_ids=team_ids).values_list("metric", flat=True).distinct()[:200]),
    }
    if not rows_raw and not cols_raw:
        return render(request, "insight/correlations.html", context)
    try:
        if period not in PERIODS:
            raise selectors.AnalysisError("period", f"one of {', '.join(PERIODS)}")
        if method not in ("diff", "level", "rank"):
            raise selectors.AnalysisError("method", "one of diff, level, rank")
        rows = selectors.series_resolve(
            team_ids=team_ids, items=[{"metric": m} for m in _names(rows_raw)], field_name="rows", limit=PAGE_ROWS
        )
        cols = selectors.series_resolve(
            team_ids=team_ids, items=[{"metric": m} for m in _names(cols_raw)], field_name="columns", limit=PAGE_COLUMNS
        )
    except selectors.AnalysisError as exc:
        context["error"] = f"{exc.field}: {exc.message}"
        return render(request, "insight/correlations.html", context, status=400)
    end = timezone.now()
    result = selectors.correlations(
        rows=rows, cols=cols, start=end - PERIODS[period], end=end, max_lag_min=60, method=method
    )
    context["result"] = result
    context["table"] = [
        (row["name"], [(v, lag, _cell_style(v)) for v, lag in zip(values, lags, strict=True)])
        for row, values, lags in zip(result["rows"], result["correlation"], result["lag_minutes"], strict=True)
    ]
    return render(request, "insight/correlations.html", context)
