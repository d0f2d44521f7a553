"""Reads of scores, anomalies, forecasts and accuracy. Other apps (alerts, capacity, bi) read
the forecasting app only through these functions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
from django.db import connection
from django.db.models import Avg, Count, QuerySet

from forecasting.models import (
    Anomaly,
    EvaluationRun,
    Feedback,
    Forecast,
    ForecastModel,
    ForecastScore,
    SeriesDetector,
    TeamDetection,
)
from forecasting.thresholds import alert_threshold

Z80 = 1.2815515655446004


def scores_window(*, series_ids: list[int], start: datetime, end: datetime) -> dict[int, dict[str, np.ndarray]]:
    """Scored points of several series in [start, end]: ts (unix s), score, expected, lower, upper."""
    if not series_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT series_id, array_agg(extract(epoch FROM ts)::float8 ORDER BY ts), array_agg(score ORDER BY ts),"
            " array_agg(expected ORDER BY ts), array_agg(lower ORDER BY ts), array_agg(upper ORDER BY ts)"
            " FROM forecasting_pointscore WHERE series_id = ANY(%s) AND ts >= %s AND ts <= %s GROUP BY series_id",
            [series_ids, start, end],
        )
        names = ("ts", "score", "expected", "lower", "upper")
        return {
            row[0]: {n: np.asarray(v, dtype=np.float64) for n, v in zip(names, row[1:], strict=True)}
            for row in cursor.fetchall()
        }


def alert_thresholds(*, series) -> dict[int, float]:
    """The score at which each series' anomaly alerts fire: its sensitivity (series setting, else
    the team's, else medium) raised by its active "not an anomaly" feedback."""
    ids = [s.id for s in series]
    own = dict(
        SeriesDetector.objects.filter(series_id__in=ids).exclude(sensitivity="").values_list("series_id", "sensitivity")
    )
    teams = dict(
        TeamDetection.objects.filter(team_id__in={s.team_id for s in series}).values_list("team_id", "sensitivity")
    )
    feedback = dict(
        Feedback.objects.filter(series_id__in=ids, revoked_at=None)
        .values("series_id")
        .annotate(n=Count("id"))
        .values_list("series_id", "n")
    )
    return {
        s.id: alert_threshold(own.get(s.id) or teams.get(s.team_id, "medium"), feedback.get(s.id, 0)) for s in series
    }


def anomalies_for_teams(*, team_ids: list[int]) -> QuerySet[Anomaly]:
    return Anomaly.objects.filter(team_id__in=team_ids).select_related("series")


def strongest_anomaly(*, series_id: int, start: datetime, end: datetime) -> Anomaly | None:
    return Anomaly.objects.filter(series_id=series_id, ts__gte=start, ts__lte=end).order_by("-score", "-ts").first()


def latest_forecast(*, series_id: int, kind: str = "short") -> Forecast | None:
    return Forecast.objects.filter(series_id=series_id, kind=kind).first()


def forecasts_for(*, series_ids: list[int], kind: str = "short") -> dict[int, Forecast]:
    return {f.series_id: f for f in Forecast.objects.filter(series_id__in=series_ids, kind=kind)}


@dataclass(frozen=True)
class Risk:
    probability: float
    eta: datetime | None  # first step whose breach probability reaches the asked level
    expected: float | None  # forecast mean at the eta (or at the riskiest step)
    model: str


def breach_risk(
    *,
    forecast: Forecast,
    comparator: str,
    threshold: float,
    now: datetime,
    horizon: td,
    level: float,
    latest: float | None = None,
) -> Risk | None:
    """Probability that the series passes `threshold` within `horizon` of `now`, from the
    forecast's 80% interval read as a normal distribution per step. The forecast path is shifted
    by how far the latest value has moved from it, so a fresh jump counts at once."""
    mean = np.asarray([np.nan if v is None else v for v in forecast.mean], dtype=float)
    hi = np.asarray([np.nan if v is None else v for v in forecast.hi80], dtype=float)
    lo = np.asarray([np.nan if v is None else v for v in forecast.lo80], dtype=float)
    times = forecast.start.timestamp() + forecast.step_s * np.arange(len(mean))
    now_s = now.timestamp()
    current = int(np.clip(np.searchsorted(times, now_s) - 1, 0, len(mean) - 1))
    keep = (times >= times[current]) & (times <= now_s + horizon.total_seconds())
    if not keep.any():
        return None
    shift = 0.0
    if latest is not None and math.isfinite(mean[current]):
        shift = latest - mean[current]
    mu = mean[keep] + shift
    sigma = np.maximum((hi[keep] - lo[keep]) / (2 * Z80), 1e-9)
    z = (mu - threshold) / sigma if comparator in ("gt", "gte") else (threshold - mu) / sigma
    probability = 0.5 * (1 + _erf(z / math.sqrt(2)))
    probability = np.where(np.isfinite(probability), probability, 0.0)
    over = np.flatnonzero(probability >= level)
    at = over[0] if len(over) else int(np.argmax(probability))
    eta = datetime.fromtimestamp(max(times[keep][at], now_s), UTC) if len(over) else None
    return Risk(float(probability.max()), eta, float(mu[at]), forecast.model)


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[float])(np.nan_to_num(x, nan=-np.inf))


def model_card(*, team_ids: list[int]) -> dict:
    """Measured accuracy: the latest benchmark runs, tracked live accuracy per model and
    horizon over the last 7 days and how often each model wins the selection (the teams' series)."""
    since = datetime.now(UTC) - td(days=7)
    latest = {}
    for run in EvaluationRun.objects.all()[:50]:
        latest.setdefault(run.kind, run)
    live = list(
        ForecastScore.objects.filter(created_at__gte=since, series__team_id__in=team_ids)
        .values("model", "horizon")
        .annotate(mase=Avg("mase"), smape=Avg("smape"), n=Count("id"))
        .order_by("model", "horizon")
    )
    chosen = list(
        ForecastModel.objects.filter(series__team_id__in=team_ids)
        .exclude(model="")
        .values("model")
        .annotate(n=Count("series_id"))
        .order_by("-n")
    )
    return {"benchmarks": latest, "live": live, "selection": chosen}
