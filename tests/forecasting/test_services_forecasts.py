from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
import pytest
import time_machine

from forecasting.models import Forecast, ForecastModel, ForecastScore, SeriesDetector, TeamDetection
from forecasting.receivers import detect_on_ingest
from forecasting.services.forecasts import forecasts_refresh, series_due
from metrics.models import Series
from metrics.services import rollups_refresh
from metrics.signals import samples_ingested
from tests.forecasting.synthetic import daily_cycle, send

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())


@pytest.fixture(autouse=True)
def _no_detection_on_ingest():
    samples_ingested.disconnect(detect_on_ingest)
    yield
    samples_ingested.connect(detect_on_ingest)


def load(team, start_s: int, end_s: int) -> Series:
    ts, values = daily_cycle(start_s, end_s)
    send(team, "latency", {"host": "a"}, ts, values)
    list(rollups_refresh())
    series = Series.objects.get(team=team, metric="latency")
    SeriesDetector.objects.update_or_create(series=series, defaults={"last_ts": datetime.fromtimestamp(ts[-1], UTC)})
    return series


def truth(ts: np.ndarray) -> np.ndarray:
    return 50 + 20 * np.sin(2 * np.pi * (ts % 86400) / 86400)


def test_it_forecasts_a_daily_cycle_with_intervals(storage_clean, team):
    with time_machine.travel(NOW, tick=False):
        series = load(team, NOW_S - 4 * 86400, NOW_S)
        assert series_due(now=NOW, limit=10) == [series.id]
        assert forecasts_refresh(series_ids=[series.id]) == 1
    forecast = Forecast.objects.get(series=series, kind="short")
    assert forecast.step_s == 300
    assert len(forecast.mean) == 288
    assert forecast.start == NOW
    # The 5-minute bucket starting at t averages the points t, t+5 min: compare with that truth.
    steps = forecast.start.timestamp() + 300 * np.arange(288)
    error = np.abs(np.asarray(forecast.mean) - truth(steps))
    assert error.mean() < 2.5
    assert all(lo <= m <= hi for lo, m, hi in zip(forecast.lo95, forecast.mean, forecast.hi95, strict=True))
    chosen = ForecastModel.objects.get(series=series)
    assert chosen.model
    assert chosen.model in chosen.backtest
    assert chosen.refreshed_at == NOW
    assert chosen.claimed_at is None


def test_a_claimed_or_fresh_series_is_not_due_again(storage_clean, team):
    with time_machine.travel(NOW, tick=False):
        series = load(team, NOW_S - 86400, NOW_S)
        assert series_due(now=NOW, limit=10) == [series.id]
        assert series_due(now=NOW, limit=10) == []  # claimed, not refreshed yet
        forecasts_refresh(series_ids=[series.id])
    assert series_due(now=NOW + td(minutes=5), limit=10) == []
    assert series_due(now=NOW + td(minutes=16), limit=10) == [series.id]


def test_a_team_can_turn_forecasts_off(storage_clean, team):
    TeamDetection.objects.create(team=team, forecasts_enabled=False)
    with time_machine.travel(NOW, tick=False):
        load(team, NOW_S - 86400, NOW_S)
        assert series_due(now=NOW, limit=10) == []


def test_it_tracks_how_the_last_forecast_did(storage_clean, team):
    with time_machine.travel(NOW, tick=False):
        series = load(team, NOW_S - 4 * 86400, NOW_S)
        forecasts_refresh(series_ids=[series.id])
    later = NOW + td(hours=5)
    with time_machine.travel(later, tick=False):
        load(team, NOW_S, int(later.timestamp()))
        forecasts_refresh(series_ids=[series.id])
    scores = {s.horizon: s for s in ForecastScore.objects.filter(series=series)}
    assert set(scores) == {"15m", "1h", "4h"}  # 24 h has not happened yet
    assert all(s.issued_at == NOW for s in scores.values())
    assert scores["1h"].smape < 10
    assert scores["1h"].mase is not None
    chosen = ForecastModel.objects.get(series=series)
    assert chosen.live_count == 1
    assert chosen.live_mase == pytest.approx(scores["1h"].mase)
