"""The forecasting pages: the owner (alice) sees her series, anomalies and model card; a member of
another team (bob) and an outsider (charlie) get 404 on her series page and none of her data in
the lists; anonymous visitors are sent to the login page."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.test import Client
from django.utils import timezone

from forecasting.models import (
    Anomaly,
    EvaluationRun,
    Feedback,
    ForecastModel,
    ForecastScore,
    SeriesDetector,
)
from metrics.models import Series


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def series(team):
    return Series.objects.create(team=team, metric="alice_latency", labels={"host": "alpha-1"}, unit="ms")


@pytest.fixture
def anomaly(team, series):
    return Anomaly.objects.create(
        team=team,
        series=series,
        ts=timezone.now() - td(minutes=10),
        value=987.5,
        score=0.93,
        kind="spike",
        expected=50.0,
        lower=40.0,
        upper=60.0,
    )


@pytest.fixture
def model(series):
    ForecastScore.objects.create(
        series=series, model="theta_alice", horizon="1h", issued_at=timezone.now(), mase=0.71, smape=3.5
    )
    return ForecastModel.objects.create(
        series=series,
        model="theta_alice",
        backtest={"theta_alice": {"mase": 0.812, "smape": 4.2}, "snaive": {"mase": 1.05, "smape": 6.1}},
        live_mase=0.9,
        live_smape=5.5,
        live_count=4,
    )


@pytest.fixture
def other_series(other_team):
    series = Series.objects.create(team=other_team, metric="bob_queue", labels={})
    Anomaly.objects.create(team=other_team, series=series, ts=timezone.now(), value=5.0, score=0.7, kind="drop")
    return series


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# Series page


def test_the_owner_sees_her_series_page(alice, series, anomaly, model):
    Feedback.objects.create(team=series.team, series=series, anomaly=anomaly, kind="spike", created_by=alice)
    html = page(login(alice), f"/series/{series.uid}/")
    assert "alice_latency" in html
    assert "host=alpha-1" in html
    assert f'data-series="{series.uid}"' in html
    assert f'data-anomaly="{anomaly.id}"' in html
    assert "987.50" in html
    assert "40.00–<wbr>60.00" in html
    assert "marked normal" in html  # the anomaly with feedback has no button any more
    assert "data-revoke=" in html
    assert 'id="feedback-count">1<' in html
    assert "0.900" in html  # medium 0.8 raised by one feedback
    assert "theta_alice" in html
    assert "0.812" in html
    assert "1.050" in html  # backtest per candidate
    assert "MASE <strong>0.900</strong>" in html  # live
    assert "js/series.js" in html
    assert "vendor/uPlot" in html


def test_the_series_page_offers_each_range_and_sensitivity(alice, series):
    SeriesDetector.objects.create(series=series, sensitivity="high")
    html = page(login(alice), f"/series/{series.uid}/?range=7d")
    assert 'data-range="7d"' in html
    for r in ("6h", "24h", "7d"):
        assert f'href="?range={r}"' in html
    assert '<option value="high" selected>' in html
    assert "team default (medium)" in html
    assert "0.650" in html
    assert "No anomalies recorded" in html
    assert "No model chosen yet" in html
    assert 'data-range="6h"' in page(login(alice), f"/series/{series.uid}/?range=1y")


def test_the_series_page_has_a_button_for_each_unjudged_anomaly(alice, anomaly, series):
    html = page(login(alice), f"/series/{series.uid}/")
    assert f'data-not-anomaly="{anomaly.id}"' in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_other_users_get_404_on_the_series_page(request, who, series, anomaly, model):
    response = login(request.getfixturevalue(who)).get(f"/series/{series.uid}/")
    assert response.status_code == 404
    assert b"alice_latency" not in response.content


def test_an_unknown_series_is_404(alice):
    assert login(alice).get("/series/00000000-0000-0000-0000-000000000000/").status_code == 404


# Anomalies page


def test_the_owner_lists_her_anomalies_linking_to_the_series(alice, anomaly, series, other_series):
    html = page(login(alice), "/anomalies/")
    assert f'href="/series/{series.uid}/"' in html
    assert "alice_latency" in html
    assert "987.50" in html
    assert "bob_queue" not in html
    assert "js/forecasting_anomalies.js" in html


def test_anomalies_filter_by_kind_and_min_score(alice, anomaly, team, series):
    Anomaly.objects.create(team=team, series=series, ts=timezone.now(), value=1.25, score=0.66, kind="drop")
    client = login(alice)
    html = page(client, "/anomalies/?kind=drop")
    assert "1.25" in html
    assert "987.50" not in html
    html = page(client, "/anomalies/?min_score=0.9")
    assert "987.50" in html
    assert "1.25" not in html
    html = page(client, "/anomalies/?kind=spike&min_score=0.95")
    assert "987.50" not in html
    assert "match these filters" in html
    html = page(client, "/anomalies/?min_score=7&kind=odd")
    assert "between 0 and 1" in html
    assert "987.50" in html
    assert "1.25" in html  # bad filters are ignored


def test_old_anomalies_are_not_listed(alice, anomaly):
    Anomaly.objects.filter(pk=anomaly.pk).update(ts=timezone.now() - td(days=8))
    assert "987.50" not in page(login(alice), "/anomalies/")


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_other_users_see_none_of_alices_anomalies(request, who, anomaly, other_series):
    html = page(login(request.getfixturevalue(who)), "/anomalies/")
    assert "alice_latency" not in html
    assert "987.50" not in html
    assert ("bob_queue" in html) == (who == "bob")


# Models page


def test_the_model_card_shows_benchmarks_live_accuracy_and_selection(alice, model):
    EvaluationRun.objects.create(
        kind="nab",
        dataset="NAB/data",
        series=58,
        scores={"standard": {"score": 61.25, "threshold": 0.7}, "reward_low_FP_rate": {"score": 55.5}},
        details={"workers": 2},
    )
    EvaluationRun.objects.create(
        kind="m4",
        dataset="Hourly-train.csv",
        series=414,
        scores={"smape": 12.1, "mase": 0.95, "owa": 0.512},
        details={"members": {"theta": 200, "ets": 14}, "horizon": 48},
    )
    html = page(login(alice), "/forecasting/models/")
    assert "Standard profile: <strong>61.25</strong>" in html
    assert "reward low FP rate" in html
    assert "OWA: <strong>0.512</strong>" in html
    assert "theta 200" in html
    assert "ets 14" in html
    assert "ARTime" in html
    assert "74.85" in html
    assert "ES-RNN" in html
    assert "0.440" in html
    assert "full corpus" in html
    assert "theta_alice" in html  # live accuracy and selection
    assert "0.710" in html
    assert "nab_run DATA_DIR" not in html


def test_the_empty_model_card_says_how_to_fill_it(alice):
    html = page(login(alice), "/forecasting/models/")
    assert "python manage.py nab_run DATA_DIR OUT_DIR --labels" in html
    assert "python manage.py m4_forecast TRAIN OUT --test TEST" in html
    assert "No tracked forecasts yet" in html
    assert "No model chosen yet" in html


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_other_users_see_none_of_alices_models(request, who, model):
    html = page(login(request.getfixturevalue(who)), "/forecasting/models/")
    assert "theta_alice" not in html
    assert "No tracked forecasts yet" in html


# Anonymous


@pytest.mark.parametrize("url", ["/series/{uid}/", "/anomalies/", "/forecasting/models/"])
def test_anonymous_visitors_are_sent_to_log_in(client, series, url):
    url = url.format(uid=series.uid)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


def test_the_nav_links_the_pages(alice):
    html = page(login(alice), "/")
    assert 'href="/anomalies/"' in html
    assert 'href="/forecasting/models/"' in html


def test_the_model_card_puts_cross_validated_figures_next_to_the_anchors(alice):
    EvaluationRun.objects.create(
        kind="nab_cv",
        dataset="nab-dev/data",
        series=41,
        scores={"standard": 60.91, "low_fp": 51.34, "low_fn": 65.61},
        details={"all_trained": {"standard": 66.41, "low_fp": 56.49, "low_fn": 71.35, "variant": "production"}},
    )
    EvaluationRun.objects.create(
        kind="m4_cv",
        dataset="Hourly-train.csv",
        series=207,
        scores={"smape": 8.115, "mase": 0.838, "owa": 0.433, "coverage80": 0.87, "coverage95": 0.959},
        details={"folds": 5, "in_sample": {"smape": 8.115, "mase": 0.838, "owa": 0.433}},
    )
    html = page(login(alice), "/forecasting/models/")
    assert "Standard profile: <strong>60.91</strong>" in html  # the honest figure leads
    assert "OWA: <strong>0.433</strong>" in html
    assert "HiveOps, cross-validated" in html
    assert "66.41" in html  # tuned on all, side by side
    assert "leave one category out, 41 files" in html
    assert "5 folds of series, 207 series" in html
    assert "74.85" in html  # ARTime
    assert "0.440" in html  # ES-RNN
    assert "the 80 % band held 87.0 %" in html
    assert "95 % band 95.9 %" in html
    assert "<details" in html
