"""Pages of the forecasting app: one series (charts, anomalies, detection, model), the teams'
anomalies, and the model card. Server-rendered; the charts and actions call the JSON API."""

from __future__ import annotations

from datetime import timedelta as td

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.teams.selectors import team_ids_for_user
from forecasting import benchmarks, selectors
from forecasting.models import Anomaly, EvaluationRun, Feedback, ForecastModel, SeriesDetector, TeamDetection
from metrics.models import Series
from metrics.selectors import series_for_teams

RANGES = {"6h": 6 * 3600, "24h": 24 * 3600, "7d": 7 * 86400}
SERIES_ANOMALIES = 50
ANOMALIES_PAGE_SIZE = 200
ANOMALIES_DAYS = 7


@login_required
def series_page(request: HttpRequest, uid) -> HttpResponse:
    """One series: values with the expected band, anomalies and forecast; detection; model."""
    series = series_for_teams(team_ids=team_ids_for_user(user=request.user)).filter(uid=uid).first()
    if series is None:
        raise Http404("no such series in your teams")
    range_key = request.GET.get("range") if request.GET.get("range") in RANGES else "6h"
    anomalies = list(selectors.anomalies_for_teams(team_ids=[series.team_id]).filter(series=series)[:SERIES_ANOMALIES])
    context = {
        "series": series,
        "ranges": list(RANGES),
        "range": range_key,
        "range_s": RANGES[range_key],
        "anomalies": anomalies,
        "detection": _detection(series),
        **_model(series),
    }
    return render(request, "forecasting/series.html", context)


def _detection(series: Series) -> dict:
    detector = SeriesDetector.objects.filter(series=series).first()
    team = TeamDetection.objects.filter(team_id=series.team_id).first()
    feedback = list(Feedback.objects.filter(series=series, revoked_at=None).select_related("created_by"))
    return {
        "sensitivity": detector.sensitivity if detector else "",
        "team_sensitivity": team.sensitivity if team else "medium",
        "threshold": selectors.alert_thresholds(series=[series])[series.id],
        "feedback": feedback,
        "judged": {f.anomaly_id for f in feedback if f.anomaly_id},
        "detector": detector,
    }


def _model(series: Series) -> dict:
    chosen = ForecastModel.objects.filter(series=series).first()
    rows = [
        {"name": name, "mase": (v or {}).get("mase"), "smape": (v or {}).get("smape")}
        for name, v in (chosen.backtest if chosen else {}).items()
    ]
    rows.sort(key=lambda r: (r["mase"] is None, r["mase"] or 0.0, r["name"]))
    return {"model": chosen, "backtest": rows}


@login_required
def anomalies_page(request: HttpRequest) -> HttpResponse:
    """The teams' anomalies of the last 7 days, newest first, filtered by kind and minimum score."""
    qs = selectors.anomalies_for_teams(team_ids=team_ids_for_user(user=request.user))
    qs = qs.filter(ts__gte=timezone.now() - td(days=ANOMALIES_DAYS))
    kind = request.GET.get("kind", "")
    if kind in Anomaly.Kind.values:
        qs = qs.filter(kind=kind)
    else:
        kind = ""
    min_score, error = _score(request.GET.get("min_score", ""))
    if min_score is not None:
        qs = qs.filter(score__gte=min_score)
    context = {
        "anomalies": list(qs.order_by("-ts")[:ANOMALIES_PAGE_SIZE]),
        "kinds": Anomaly.Kind.choices,
        "kind": kind,
        "min_score": "" if min_score is None else f"{min_score:g}",
        "error": error,
        "days": ANOMALIES_DAYS,
        "limit": ANOMALIES_PAGE_SIZE,
    }
    return render(request, "forecasting/anomalies.html", context)


def _score(text: str) -> tuple[float | None, str]:
    if not text.strip():
        return None, ""
    try:
        value = float(text)
    except ValueError:
        return None, "The minimum score must be a number between 0 and 1."
    if not 0 <= value <= 1:
        return None, "The minimum score must be a number between 0 and 1."
    return value, ""


@login_required
def models_page(request: HttpRequest) -> HttpResponse:
    """The model card: benchmark runs, tracked live accuracy and how often each model wins."""
    card = selectors.model_card(team_ids=team_ids_for_user(user=request.user))
    runs = card["benchmarks"]
    context = {
        "nab": _run(runs.get("nab"), headline="standard"),
        "nab_cv": _run(runs.get("nab_cv"), headline="standard"),
        "nab_table": benchmarks.nab_table(runs.get("nab_cv"), runs.get("nab")),
        "m4": _run(runs.get("m4"), headline="owa"),
        "m4_cv": _run(runs.get("m4_cv"), headline="owa"),
        "m4_table": benchmarks.m4_table(runs.get("m4_cv"), runs.get("m4")),
        "live": card["live"],
        "selection": card["selection"],
    }
    return render(request, "forecasting/models.html", context)


def _run(run: EvaluationRun | None, *, headline: str) -> dict | None:
    """A benchmark run for the template: its headline score and every score and detail as text."""
    if run is None:
        return None
    scores = {k: v.get("score") if isinstance(v, dict) else v for k, v in run.scores.items()}
    return {
        "run": run,
        "headline": scores.get(headline),
        "scores": [(k.replace("_", " "), _text(v)) for k, v in scores.items()],
        "details": [(k.replace("_", " "), _text(v)) for k, v in run.details.items()],
    }


def _text(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
