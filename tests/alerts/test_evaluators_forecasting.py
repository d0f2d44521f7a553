"""The anomaly and forecast-breach rule kinds, on scores and forecasts as the forecasting app
stores them."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
import time_machine

from alerts.evaluators.anomaly import run_value
from alerts.models import Alert
from alerts.services.rules import rule_evaluate
from forecasting.models import Anomaly, Forecast, PointScore, SeriesDetector, TeamDetection
from forecasting.services.feedback import feedback_record, feedback_revoke
from metrics.models import Series
from tests.alerts.factories import rule

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def series(team):
    return Series.objects.create(team=team, metric="latency", labels={"host": "a"})


def scores(series, values, end=NOW, step=td(minutes=1)):
    start = end - step * (len(values) - 1)
    PointScore.objects.bulk_create(
        PointScore(series=series, ts=start + i * step, score=v, expected=50.0, lower=40.0, upper=60.0)
        for i, v in enumerate(values)
    )


def test_run_value_is_the_best_score_held_for_n_points():
    import numpy as np

    assert run_value(np.array([0.1, 0.95, 0.2]), 1) == 0.95
    assert run_value(np.array([0.1, 0.95, 0.2, 0.9, 0.85]), 2) == 0.85
    assert run_value(np.array([0.9]), 2) is None


def test_an_anomaly_rule_fires_with_the_explanation_and_resolves(team, series):
    anomaly_rule = rule(team, name="Latency anomaly", kind="anomaly", metric="latency", critical_threshold=None)
    scores(series, [0.1, 0.2, 0.97])
    Anomaly.objects.create(
        team=team,
        series=series,
        ts=NOW,
        value=140.0,
        score=0.97,
        kind="spike",
        expected=50.0,
        lower=40.0,
        upper=60.0,
        components={"ewma": 1.0},
    )
    with time_machine.travel(NOW, tick=False):
        rule_evaluate(rule=anomaly_rule)
    alert = Alert.objects.get(rule=anomaly_rule)
    assert alert.status == "firing"
    assert alert.summary == 'latency{host="a"}: spike — 140 outside the expected 40–60 (score 0.97)'
    assert alert.annotations["anomaly_kind"] == "spike"
    assert alert.annotations["expected_band"] == "40 – 60"
    assert alert.annotations["threshold"] == "0.800"
    later = NOW + td(minutes=10)
    scores(series, [0.1, 0.1], end=later)
    with time_machine.travel(later, tick=False):
        rule_evaluate(rule=anomaly_rule)
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_sensitivity_and_feedback_move_the_threshold(team, series):
    anomaly_rule = rule(team, name="Latency anomaly", kind="anomaly", metric="latency", critical_threshold=None)
    scores(series, [0.85])
    TeamDetection.objects.create(team=team, sensitivity="low")  # needs 0.9
    with time_machine.travel(NOW, tick=False):
        rule_evaluate(rule=anomaly_rule)
    assert not Alert.objects.filter(rule=anomaly_rule).exists()
    SeriesDetector.objects.create(series=series, sensitivity="high")  # needs 0.65
    feedback = feedback_record(series=series, kind="spike")  # 0.65 -> 0.825
    with time_machine.travel(NOW, tick=False):
        rule_evaluate(rule=anomaly_rule)
    assert Alert.objects.get(rule=anomaly_rule).annotations == {"condition": anomaly_rule_condition(anomaly_rule)}
    second = feedback_record(series=series)  # -> 0.9125: no longer breached
    with time_machine.travel(NOW + td(seconds=30), tick=False):
        rule_evaluate(rule=anomaly_rule)
    assert Alert.objects.get(rule=anomaly_rule).status == "resolved"
    feedback_revoke(feedback=second)
    feedback_revoke(feedback=feedback)
    with time_machine.travel(NOW + td(seconds=60), tick=False):
        rule_evaluate(rule=anomaly_rule)
    assert Alert.objects.get(rule=anomaly_rule).status == "firing"


def anomaly_rule_condition(r) -> str:
    return "anomaly in latency: score ≥ the series' sensitivity threshold for 1 point(s) within 0:05:00"


def test_points_means_consecutive_points(team, series):
    anomaly_rule = rule(team, kind="anomaly", metric="latency", critical_threshold=None, params={"points": 3})
    scores(series, [0.95, 0.2, 0.95, 0.95])
    with time_machine.travel(NOW, tick=False):
        rule_evaluate(rule=anomaly_rule)
    assert not Alert.objects.filter(rule=anomaly_rule).exists()
    scores(series, [0.96], end=NOW + td(minutes=1))
    with time_machine.travel(NOW + td(minutes=1), tick=False):
        rule_evaluate(rule=anomaly_rule)
    assert Alert.objects.get(rule=anomaly_rule).status == "firing"


def forecast(series, mean, spread=2.0, start=NOW, generated_at=NOW):
    return Forecast.objects.update_or_create(
        series=series,
        kind="short",
        defaults={
            "model": "test",
            "generated_at": generated_at,
            "start": start,
            "step_s": 300,
            "mean": mean,
            "lo80": [m - spread for m in mean],
            "hi80": [m + spread for m in mean],
            "lo95": [m - 2 * spread for m in mean],
            "hi95": [m + 2 * spread for m in mean],
        },
    )[0]


def breach_rule(team, **params):
    return rule(
        team,
        name="CPU will fill",
        kind="forecast_breach",
        metric="latency",
        critical_threshold=90.0,
        comparator="gt",
        params={"horizon_minutes": 60, **params},
    )


def test_a_forecast_breach_fires_ahead_and_resolves_when_the_risk_passes(team, series):
    r = breach_rule(team)
    forecast(series, [70 + 2.5 * i for i in range(24)])  # 80% sure to pass 90 from step 9 (45 min)
    with time_machine.travel(NOW, tick=False):
        rule_evaluate(rule=r)
    alert = Alert.objects.get(rule=r)
    assert alert.status == "firing"
    assert alert.summary == 'latency{host="a"} will exceed 90 in about 45 min (probability 1.00)'
    assert alert.annotations["breach_eta"] == (NOW + td(minutes=45)).isoformat()
    assert alert.annotations["forecast_model"] == "test"
    forecast(series, [70.0] * 24, generated_at=NOW + td(minutes=5))
    with time_machine.travel(NOW + td(minutes=5), tick=False):
        rule_evaluate(rule=r)
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_a_breach_beyond_the_horizon_or_a_stale_forecast_does_not_fire(team, series):
    r = breach_rule(team, horizon_minutes=30)
    forecast(series, [70 + 2.5 * i for i in range(24)])  # 40 min away
    with time_machine.travel(NOW, tick=False):
        rule_evaluate(rule=r)
    assert not Alert.objects.filter(rule=r).exists()
    forecast(series, [95.0] * 24, generated_at=NOW - td(hours=2))
    with time_machine.travel(NOW, tick=False):
        rule_evaluate(rule=r)
    assert not Alert.objects.filter(rule=r).exists()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"points": 0}, "params"),
        ({"points": "3"}, "params"),
        ({"threshold": 1.5}, "params"),
    ],
)
def test_anomaly_rules_reject_bad_params(team, params, field):
    from django.core.exceptions import ValidationError

    bad = rule(team, kind="anomaly", critical_threshold=None, params=params)
    with pytest.raises(ValidationError) as info:
        bad.full_clean()
    assert field in info.value.message_dict


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"critical_threshold": None}, "critical_threshold"),
        ({"params": {"horizon_minutes": 2}}, "params"),
        ({"params": {"probability": 1.2}}, "params"),
        ({"params": {"probability": 0.5, "warning_probability": 0.6}}, "params"),
    ],
)
def test_forecast_breach_rules_reject_bad_settings(team, kw, field):
    from django.core.exceptions import ValidationError

    bad = rule(team, kind="forecast_breach", **{"critical_threshold": 90.0, **kw})
    with pytest.raises(ValidationError) as info:
        bad.full_clean()
    assert field in info.value.message_dict
