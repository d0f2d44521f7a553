"""HiveOps' forecasts, expected bands and anomaly scores answer as PromQL series on /prometheus."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from forecasting.models import Forecast, PointScore
from metrics.models import Series

pytestmark = pytest.mark.usefixtures("storage_clean")
T0 = 1_790_000_100 // 300 * 300


@pytest.fixture
def world(team, other_team):
    cpu = Series.objects.create(team=team, metric="cpu", labels={"host": "web-1"})
    hidden = Series.objects.create(team=other_team, metric="cpu", labels={"host": "web-1"})
    for series in (cpu, hidden):
        Forecast.objects.create(
            series=series,
            kind="short",
            model="ets",
            start=datetime.fromtimestamp(T0, UTC),
            step_s=300,
            mean=[10.0, 11.0, 12.0],
            lo80=[8.0, 9.0, 10.0],
            hi80=[12.0, 13.0, 14.0],
            lo95=[6.0, 7.0, 8.0],
            hi95=[14.0, 15.0, 16.0],
        )
    PointScore.objects.create(
        series=cpu, ts=datetime.fromtimestamp(T0, UTC), score=0.7, expected=9.5, lower=8.0, upper=11.0
    )
    return cpu


@pytest.fixture
def prom(make_token, team):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(team, ('read',))}")
    return lambda path, **params: client.get(f"/prometheus/api/v1/{path}", params).json()


def test_forecast_band_as_series(prom, world):
    body = prom(
        "query_range",
        query='hiveops_forecast{metric="cpu", host="web-1", quantile=~"0.1|0.9"}',
        start=T0,
        end=T0 + 600,
        step=300,
    )
    result = {r["metric"]["quantile"]: [v for _, v in r["values"]] for r in body["data"]["result"]}
    assert result == {"0.1": ["8", "9", "10"], "0.9": ["12", "13", "14"]}
    labels = body["data"]["result"][0]["metric"]
    assert labels["__name__"] == "hiveops_forecast"
    assert labels["horizon"] == "short"


def test_anomaly_score_and_expected(prom, world):
    body = prom("query", query='hiveops_anomaly_score{metric="cpu"}', time=T0 + 60)
    assert [r["value"][1] for r in body["data"]["result"]] == ["0.7"]
    body = prom("query", query='hiveops_expected{metric="cpu", quantile="upper"}', time=T0 + 60)
    assert [r["value"][1] for r in body["data"]["result"]] == ["11"]


def test_other_teams_forecasts_stay_hidden(prom, world):
    body = prom("query", query='count(hiveops_forecast{quantile="0.5"})', time=T0)
    assert body["data"]["result"][0]["value"][1] == "1"
