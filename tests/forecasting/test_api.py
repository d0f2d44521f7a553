"""Anomalies, scores, forecasts, detection settings and feedback over the API: the owner sees
and acts; a member of another team and an outsider get 404 (or an empty list)."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.models import Alert
from alerts.services.rules import rule_evaluate
from forecasting.models import Anomaly, EvaluationRun, Feedback, Forecast, ForecastModel, PointScore
from metrics.models import Series
from tests.alerts.factories import rule


def login(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def series(team):
    return Series.objects.create(team=team, metric="latency", labels={"host": "a"})


@pytest.fixture
def anomaly(team, series):
    now = timezone.now()
    PointScore.objects.create(series=series, ts=now, score=0.95, expected=50.0, lower=40.0, upper=60.0)
    return Anomaly.objects.create(
        team=team, series=series, ts=now, value=140.0, score=0.95, kind="spike", expected=50.0, lower=40.0, upper=60.0
    )


@pytest.fixture
def forecast(series):
    ForecastModel.objects.create(series=series, model="theta", backtest={"theta": {"mase": 0.8, "smape": 4.0}})
    return Forecast.objects.create(
        series=series,
        kind="short",
        model="theta",
        start=timezone.now(),
        step_s=300,
        mean=[1.0, 2.0],
        lo80=[0.5, 1.0],
        hi80=[1.5, 3.0],
        lo95=[0.0, 0.5],
        hi95=[2.0, 4.0],
    )


def test_the_owner_lists_anomalies_with_filters(alice, anomaly, series):
    client = login(alice)
    body = client.get("/api/v1/anomalies").json()
    assert [a["id"] for a in body] == [anomaly.id]
    assert body[0]["series"] == str(series.uid)
    assert body[0]["kind"] == "spike"
    assert client.get("/api/v1/anomalies?kind=drop").json() == []
    assert client.get("/api/v1/anomalies?min_score=0.96").json() == []
    assert client.get(f"/api/v1/anomalies?series={series.uid}").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [("kind=odd", "kind"), ("min_score=2", "min_score"), ("limit=x", "limit"), ("since=soon", "since")],
)
def test_bad_filters_name_the_field(alice, anomaly, query, field):
    response = login(alice).get(f"/api/v1/anomalies?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_other_teams_and_outsiders_see_nothing(bob, charlie, anomaly, series, forecast):
    for user in (bob, charlie):
        client = login(user)
        assert client.get("/api/v1/anomalies").json() == []
        assert client.get(f"/api/v1/anomalies?series={series.uid}").status_code == 404
        assert client.get(f"/api/v1/series/{series.uid}/scores").status_code == 404
        assert client.get(f"/api/v1/series/{series.uid}/forecast").status_code == 404
        assert client.get(f"/api/v1/series/{series.uid}/detection").status_code == 404
        assert client.patch(f"/api/v1/series/{series.uid}/detection", {"sensitivity": "low"}).status_code == 404
        assert client.post(f"/api/v1/anomalies/{anomaly.id}/not-anomaly").status_code == 404
        assert client.get("/api/v1/forecasting/model-card").json()["selection"] == []
    assert APIClient().get("/api/v1/anomalies").status_code in (401, 403)
    assert not Feedback.objects.exists()


def test_scores_and_forecast_for_charts(alice, anomaly, series, forecast):
    client = login(alice)
    scores = client.get(f"/api/v1/series/{series.uid}/scores").json()
    assert scores["score"] == [0.95]
    assert scores["upper"] == [60.0]
    body = client.get(f"/api/v1/series/{series.uid}/forecast").json()
    assert body["model"] == "theta"
    assert body["mean"] == [1.0, 2.0]
    assert body["backtest"]["theta"]["mase"] == 0.8
    assert client.get(f"/api/v1/series/{series.uid}/forecast?kind=daily").status_code == 404
    assert client.get(f"/api/v1/series/{series.uid}/forecast?kind=weekly").json() == {"kind": "short or daily"}
    assert "start" in client.get(f"/api/v1/series/{series.uid}/scores?start=10&end=5").json()


def test_sensitivity_and_feedback_round_trip(alice, anomaly, series):
    client = login(alice)
    assert client.get(f"/api/v1/series/{series.uid}/detection").json()["alert_threshold"] == pytest.approx(0.8)
    response = client.patch(f"/api/v1/series/{series.uid}/detection", {"sensitivity": "loud"}, format="json")
    assert response.status_code == 400
    assert "sensitivity" in response.json()
    body = client.patch(f"/api/v1/series/{series.uid}/detection", {"sensitivity": "high"}, format="json").json()
    assert body["alert_threshold"] == pytest.approx(0.65)
    feedback = client.post(f"/api/v1/anomalies/{anomaly.id}/not-anomaly", {"note": "deploy"}, format="json").json()
    assert feedback["kind"] == "spike"
    assert feedback["created_by"] == "alice"
    detection = client.get(f"/api/v1/series/{series.uid}/detection").json()
    assert detection["active_feedback"] == 1
    assert detection["alert_threshold"] == pytest.approx(0.825)
    assert [f["id"] for f in client.get("/api/v1/anomaly-feedback").json()] == [feedback["id"]]
    revoked = client.post(f"/api/v1/anomaly-feedback/{feedback['id']}/revoke").json()
    assert revoked["revoked_at"]
    assert client.get(f"/api/v1/series/{series.uid}/detection").json()["alert_threshold"] == pytest.approx(0.65)


def test_an_anomaly_alert_takes_not_an_anomaly_feedback_once(alice, team, anomaly, series):
    anomaly_rule = rule(team, kind="anomaly", metric="latency", critical_threshold=None, window=td(minutes=5))
    rule_evaluate(rule=anomaly_rule)
    alert = Alert.objects.get(rule=anomaly_rule)
    client = login(alice)
    for _ in range(2):
        body = client.post(f"/api/v1/alerts/{alert.uid}/not-anomaly").json()
    assert body["timeline"][-1]["message"] == "marked as not an anomaly"
    assert Feedback.objects.get().alert_id == alert.id
    other = rule(team, name="cpu", metric="cpu")
    threshold_alert = Alert.objects.create(team=team, rule=other, fingerprint="x", summary="cpu", severity="high")
    assert client.post(f"/api/v1/alerts/{threshold_alert.uid}/not-anomaly").status_code == 409


def test_the_model_card_shows_benchmarks_and_selection(alice, forecast, token_client):
    EvaluationRun.objects.create(kind="m4", dataset="m4-hourly", series=207, scores={"owa": 0.5})
    body = token_client(("read",)).get("/api/v1/forecasting/model-card").json()
    assert body["benchmarks"]["m4"]["scores"] == {"owa": 0.5}
    assert body["selection"] == [{"model": "theta", "n": 1}]
