from __future__ import annotations

import numpy as np
import pytest

from forecasting.algorithms.forecast import MODELS, forecast, mase, select, smape
from forecasting.algorithms.forecast.prophet_model import available as prophet_available
from forecasting.algorithms.forecast.registry import combination, fit_predict, members

DAY, WEEK = 24, 168
DAILY_ONLY = ["snaive", "profile", "profile_trend", "theta"]
DAILY_AND_WEEKLY = ["daily_weekly", "weekly_profile", "snaive_week", "prophet"]
SEASONAL = DAILY_ONLY + DAILY_AND_WEEKLY


def hourly(n: int, *, trend: float = 0.02, weekly: float = 3.0, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Level 100, a trend, a daily wave of ±10, a weekly wave of ±`weekly` and normal noise."""
    t = np.arange(n)
    waves = 10 * np.sin(2 * np.pi * t / DAY) + weekly * np.sin(2 * np.pi * t / WEEK)
    return 100 + trend * t + waves + noise * np.random.default_rng(seed).normal(size=n)


@pytest.mark.parametrize("name", SEASONAL)
def test_each_seasonal_model_recovers_a_seasonal_trending_series(name):
    if name == "prophet" and not prophet_available():
        pytest.skip("prophet is not installed")
    # Daily-only models get a series without a weekly wave.
    full = hourly(4 * WEEK + 48, trend=0.01, weekly=3.0 if name in DAILY_AND_WEEKLY else 0.0)
    history, future = full[:-48], full[-48:]
    predicted = fit_predict(name, history, (DAY, WEEK), 48)
    assert predicted.shape == (48,)
    # daily_weekly keeps only half of the weekly shape (shrinkage), so it misses ±1.5 of it.
    tolerance = 0.03 if name == "daily_weekly" else 0.02
    assert np.mean(np.abs(predicted - future) / future) < tolerance


@pytest.mark.parametrize("name", ["naive", "drift"])
def test_naive_and_drift_follow_a_line(name):
    line = 5.0 + 0.5 * np.arange(200)
    predicted = fit_predict(name, line, (), 10)
    expected = line[-1] + 0.5 * np.arange(1, 11) if name == "drift" else np.full(10, line[-1])
    np.testing.assert_allclose(predicted, expected)


def test_every_registered_model_is_covered_by_a_test():
    assert set(MODELS) == set(SEASONAL) | {"naive", "drift"}


def test_intervals_cover_noise_with_known_sigma_about_as_promised():
    inside80 = inside95 = total = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        y = 50 + rng.normal(0, 2.0, size=4 * WEEK + 48)
        prediction = forecast(y[:-48], horizon=48, season=(DAY, WEEK), model="profile")
        future = y[-48:]
        inside80 += np.sum((prediction.lo80 <= future) & (future <= prediction.hi80))
        inside95 += np.sum((prediction.lo95 <= future) & (future <= prediction.hi95))
        total += 48
    assert 0.70 <= inside80 / total <= 0.92
    assert 0.88 <= inside95 / total <= 0.99


def test_intervals_are_ordered_and_widen_with_the_horizon():
    prediction = forecast(hourly(4 * WEEK, noise=2.0), horizon=48, season=(DAY, WEEK))
    assert np.all(prediction.lo95 <= prediction.lo80)
    assert np.all(prediction.lo80 <= prediction.mean)
    assert np.all(prediction.mean <= prediction.hi80)
    assert np.all(prediction.hi80 <= prediction.hi95)
    width = prediction.hi95 - prediction.lo95
    assert np.all(np.diff(width) >= -1e-9)


def test_selection_prefers_seasonal_models_on_seasonal_data():
    y = hourly(4 * WEEK, noise=1.0)
    selection = select(y, horizon=48, season=(DAY, WEEK), candidates=("naive", "drift", "snaive", "profile", "theta"))
    assert not {"naive", "drift"} & set(members(selection.best))
    assert selection.scores["snaive"]["mase"] < selection.scores["naive"]["mase"]
    assert selection.scores[selection.best]["smape"] < selection.scores["naive"]["smape"]
    assert selection.windows == 5


def test_the_stored_winner_reproduces_the_selected_forecast():
    y = hourly(4 * WEEK, noise=1.0, seed=3)
    selection = select(y, horizon=48, season=(DAY, WEEK))
    chosen = forecast(y, horizon=48, season=(DAY, WEEK))
    again = forecast(y, horizon=48, season=(DAY, WEEK), model=selection.best)
    assert chosen.model == again.model == selection.best
    np.testing.assert_allclose(again.mean, chosen.mean)
    np.testing.assert_allclose(again.hi95, chosen.hi95)


def test_combination_names_carry_their_weights():
    name = combination({"theta": 1.0, "snaive": 3.0})
    assert name == "mean(snaive*75+theta*25)"
    y = hourly(3 * WEEK)
    expected = 0.75 * fit_predict("snaive", y, (DAY,), 24) + 0.25 * fit_predict("theta", y, (DAY,), 24)
    np.testing.assert_allclose(fit_predict(name, y, (DAY,), 24), expected)


def test_a_very_short_history_falls_back_to_naive_with_wide_intervals():
    y = np.array([3.0, 4.0, 3.5, 5.0, 4.5])
    prediction = forecast(y, horizon=12, season=DAY)
    assert prediction.model == "naive"
    np.testing.assert_allclose(prediction.mean, 4.5)
    assert np.all(np.isfinite(prediction.hi95))
    assert prediction.hi95[-1] - prediction.lo95[-1] > prediction.hi95[0] - prediction.lo95[0] > 0


def test_one_day_of_history_falls_back_to_seasonal_naive():
    y = hourly(25)
    prediction = forecast(y, horizon=24, season=DAY)
    assert prediction.model == "snaive"
    np.testing.assert_allclose(prediction.mean, np.resize(y[-DAY:], 24))


def test_a_constant_series_gives_a_constant_forecast_with_zero_width():
    prediction = forecast(np.full(500, 7.0), horizon=48, season=(DAY, WEEK))
    np.testing.assert_allclose(prediction.mean, 7.0)
    np.testing.assert_allclose(prediction.hi95, 7.0)
    np.testing.assert_allclose(prediction.lo95, 7.0)


def test_nan_gaps_are_interpolated():
    y = hourly(4 * WEEK, noise=0.5)
    gappy = y.copy()
    gappy[[0, 1, 100, 101, 102, 500, -1]] = np.nan
    prediction = forecast(gappy, horizon=48, season=(DAY, WEEK))
    reference = forecast(y, horizon=48, season=(DAY, WEEK))
    assert np.all(np.isfinite(prediction.mean))
    assert np.max(np.abs(prediction.mean - reference.mean)) < 2.0


def test_an_all_nan_series_is_refused():
    with pytest.raises(ValueError, match="no finite value"):
        forecast([np.nan, np.nan], horizon=3, season=None)


def test_a_year_ahead_on_two_years_of_daily_values():
    t = np.arange(730)
    y = 1000 + 0.5 * t + 50 * np.sin(2 * np.pi * t / 7)
    prediction = forecast(y, horizon=365, season=7)
    assert prediction.mean.shape == (365,)
    assert np.all(np.isfinite(prediction.hi95))
    truth = 1000 + 0.5 * np.arange(730, 1095) + 50 * np.sin(2 * np.pi * np.arange(730, 1095) / 7)
    assert np.mean(np.abs(prediction.mean - truth) / truth) < 0.10


def test_five_minute_steps_with_a_week_of_history():
    t = np.arange(7 * 288)
    y = 40 + 10 * np.sin(2 * np.pi * t / 288) + np.random.default_rng(1).normal(0, 1, size=len(t))
    prediction = forecast(y, horizon=288, season=(288, 2016))
    assert prediction.mean.shape == (288,)
    assert "snaive_week" not in members(prediction.model)  # a week of data: no weekly model
    assert np.mean(np.abs(prediction.mean - (40 + 10 * np.sin(2 * np.pi * np.arange(2016, 2304) / 288)))) < 2.0


def test_smape_and_mase_by_hand():
    actual, predicted = np.array([10.0, 20.0]), np.array([12.0, 15.0])
    # 200·2/22 = 18.1818…, 200·5/35 = 28.5714…
    assert smape(actual, predicted) == pytest.approx((400 / 22 + 1000 / 35) / 2)
    insample = np.array([1.0, 2.0, 4.0, 3.0])
    # lag-2 differences |4−1|, |3−2| → scale 2; MAE 3.5
    assert mase(actual, predicted, insample, season=2) == pytest.approx(1.75)
    assert smape(np.zeros(2), np.zeros(2)) == 0.0
