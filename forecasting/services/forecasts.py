"""Keep forecasts fresh: choose a model per series by backtest, forecast with it, and track
how each issued forecast did once the actual values arrived (accuracy drift triggers a new
selection). `short` forecasts run on 5-minute buckets of the 1-minute rollups, 24 hours ahead;
`daily` ones on daily means of the 1-hour rollups, 365 days ahead, for capacity planning."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from forecasting.algorithms.forecast import forecast, select
from forecasting.events import forecasts_publish
from forecasting.models import Forecast, ForecastModel, ForecastScore, SeriesDetector, TeamDetection
from forecasting.signals import forecasts_refreshed
from metrics.models import Series
from metrics.selectors import buckets_many

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    kind: str
    step_s: int
    history: td
    horizon: int
    seasons: tuple[int, ...]
    source: str
    min_points: int


SHORT = Plan("short", 300, td(days=14), 288, (288, 2016), "1m", 24)
DAILY = Plan("daily", 86400, td(days=730), 365, (7,), "1h", 14)
HORIZONS = {"15m": 3, "1h": 12, "4h": 48, "24h": 288}  # steps of the short forecast
CLAIM_FOR = td(minutes=10)
DAILY_EVERY = td(hours=24)


def grid(ts: np.ndarray, values: np.ndarray, step_s: int) -> tuple[float, np.ndarray]:
    """Put bucketed values on a regular grid from the first to the last bucket; gaps are NaN."""
    first = float(ts[0])
    index = np.rint((ts - first) / step_s).astype(int)
    y = np.full(index[-1] + 1, np.nan)
    y[index] = values
    return first, y


def usable_seasons(plan: Plan, n: int) -> tuple[int, ...]:
    """Seasonal periods with at least two full cycles of history."""
    return tuple(s for s in plan.seasons if n >= 2 * s)


def series_due(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` active series whose short forecast is missing or stale, oldest first.
    The claim (`claimed_at`) keeps two dispatchers from queueing the same series."""
    refresh = td(minutes=settings.HIVEOPS_FORECAST_REFRESH_MINUTES)
    disabled = TeamDetection.objects.filter(forecasts_enabled=False).values_list("team_id", flat=True)
    active = SeriesDetector.objects.filter(last_ts__gte=now - td(days=1)).exclude(series__team_id__in=disabled)
    missing = active.filter(series__forecast_model__isnull=True).values_list("series_id", flat=True)
    ForecastModel.objects.bulk_create([ForecastModel(series_id=sid) for sid in missing], ignore_conflicts=True)
    with transaction.atomic():
        due = list(
            ForecastModel.objects.select_for_update(skip_locked=True)
            .filter(series_id__in=active.values("series_id"))
            .filter(Q(refreshed_at=None) | Q(refreshed_at__lt=now - refresh))
            .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - CLAIM_FOR))
            .order_by("refreshed_at")
            .values_list("series_id", flat=True)[:limit]
        )
        ForecastModel.objects.filter(series_id__in=due).update(claimed_at=now)
    return due


def forecasts_refresh(*, series_ids: list[int], now: datetime | None = None) -> int:
    """Refresh the short forecast of each series (and its daily one when a day old)."""
    now = now or timezone.now()
    done = _refresh_plan(SHORT, series_ids, now)
    daily_due = [
        sid
        for sid in series_ids
        if not Forecast.objects.filter(series_id=sid, kind="daily", generated_at__gte=now - DAILY_EVERY).exists()
    ]
    _refresh_plan(DAILY, daily_due, now)
    ForecastModel.objects.filter(series_id__in=series_ids).update(refreshed_at=now, claimed_at=None)
    _announce(done)
    return len(done)


def _refresh_plan(plan: Plan, series_ids: list[int], now: datetime) -> list[int]:
    end = datetime.fromtimestamp(now.timestamp() // plan.step_s * plan.step_s, UTC)  # whole buckets only
    data = buckets_many(
        series_ids=series_ids, start=end - plan.history, end=end, step_s=plan.step_s, source=plan.source
    )
    done = []
    for sid in series_ids:
        ts, values = data.get(sid, (np.empty(0), np.empty(0)))
        if len(ts) < plan.min_points:
            continue
        try:
            _refresh_one(plan, sid, ts, values, now)
            done.append(sid)
        except Exception:  # one odd series must not stop the batch
            logger.exception("forecast of series %s failed", sid)
    return done


def _refresh_one(plan: Plan, series_id: int, ts: np.ndarray, values: np.ndarray, now: datetime) -> None:
    first, y = grid(ts, values, plan.step_s)
    seasons = usable_seasons(plan, len(y)) or (1,)
    start = datetime.fromtimestamp(first + len(y) * plan.step_s, UTC)
    with transaction.atomic():
        chosen = ForecastModel.objects.select_for_update().get_or_create(series_id=series_id)[0]
        if plan.kind == "short":
            _track_accuracy(chosen, series_id, first, y, plan, now)
            if _needs_selection(chosen, now):
                selection = select(y, horizon=min(plan.horizon, 48), season=seasons)
                chosen.model, chosen.backtest, chosen.selected_at = selection.best, selection.scores, now
                chosen.live_mase = chosen.live_smape = None
                chosen.live_count = 0
                chosen.save()
            model = chosen.model
        else:
            model = None  # daily forecasts choose per run: they are cheap and rare
        prediction = forecast(y, horizon=plan.horizon, season=seasons, model=model)
        Forecast.objects.update_or_create(
            series_id=series_id,
            kind=plan.kind,
            defaults={
                "model": getattr(prediction, "model", None) or model or "auto",
                "generated_at": now,
                "start": start,
                "step_s": plan.step_s,
                **{k: _floats(getattr(prediction, k)) for k in ("mean", "lo80", "hi80", "lo95", "hi95")},
            },
        )


def _floats(values) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def _needs_selection(chosen: ForecastModel, now: datetime) -> bool:
    every = td(hours=settings.HIVEOPS_FORECAST_SELECT_HOURS)
    return not chosen.model or chosen.selected_at < now - every or chosen.drifted


def _track_accuracy(chosen: ForecastModel, series_id: int, first: float, y: np.ndarray, plan: Plan, now) -> None:
    """Score the previous short forecast against the buckets that have arrived since."""
    previous = Forecast.objects.filter(series_id=series_id, kind="short").first()
    if previous is None or previous.step_s != plan.step_s:
        return
    offset = round((previous.start.timestamp() - first) / plan.step_s)
    history = y[: max(offset, 0)]
    scale = _mase_scale(history, plan.seasons[0])
    rows = []
    for horizon, steps in HORIZONS.items():
        lo, hi = offset, offset + steps
        if lo < 0 or hi > len(y):
            continue
        actual, predicted = y[lo:hi], np.asarray(previous.mean[:steps], dtype=float)
        ok = np.isfinite(actual) & np.isfinite(predicted)
        if ok.sum() < max(1, steps // 2):
            continue
        error = np.abs(actual[ok] - predicted[ok])
        denominator = np.abs(actual[ok]) + np.abs(predicted[ok])
        smape = float(np.mean(np.where(denominator > 0, 200 * error / np.where(denominator > 0, denominator, 1), 0)))
        mase = float(np.mean(error) / scale) if scale else None
        rows.append(
            ForecastScore(
                series_id=series_id,
                model=previous.model,
                horizon=horizon,
                issued_at=previous.generated_at,
                mase=mase,
                smape=smape,
                created_at=now,
            )
        )
    if not rows or ForecastScore.objects.filter(series_id=series_id, issued_at=previous.generated_at).exists():
        return
    ForecastScore.objects.bulk_create(rows)
    hour = next((r for r in rows if r.horizon == "1h"), rows[0])
    if hour.mase is not None and previous.model == chosen.model:
        alpha = 0.2
        chosen.live_mase = hour.mase if chosen.live_mase is None else (1 - alpha) * chosen.live_mase + alpha * hour.mase
        chosen.live_smape = (
            hour.smape if chosen.live_smape is None else (1 - alpha) * chosen.live_smape + alpha * hour.smape
        )
        chosen.live_count += 1
        chosen.save(update_fields=["live_mase", "live_smape", "live_count"])


def _mase_scale(history: np.ndarray, season: int) -> float | None:
    if len(history) <= season:
        season = 1
    if len(history) <= season:
        return None
    diffs = np.abs(history[season:] - history[:-season])
    diffs = diffs[np.isfinite(diffs)]
    scale = float(np.mean(diffs)) if len(diffs) else 0.0
    return scale or None


def _announce(series_ids: list[int]) -> None:
    by_team: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    uids: dict[int, list[str]] = defaultdict(list)
    rows = Series.objects.filter(id__in=series_ids).values_list("id", "team_id", "metric", "uid")
    for sid, team_id, metric, uid in rows:
        by_team[team_id][metric].append(sid)
        uids[team_id].append(str(uid))
    for team_id, series in by_team.items():
        try:
            forecasts_refreshed.send(sender=Forecast, team_id=team_id, series=dict(series))
        except Exception:
            logger.exception("forecasts_refreshed receiver failed for team %s", team_id)
        forecasts_publish(team_id, uids[team_id])
