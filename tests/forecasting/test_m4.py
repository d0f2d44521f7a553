from __future__ import annotations

import numpy as np
import pytest

from forecasting.evaluation import m4


def test_smape_and_mase_on_a_tiny_example():
    actual, forecast = np.array([100.0, 50.0]), np.array([110.0, 40.0])
    # 200·10/210 and 200·10/90
    assert m4.smape(actual, forecast) == pytest.approx((2000 / 210 + 2000 / 90) / 2)
    insample = np.array([1.0, 3.0, 2.0, 6.0])  # lag-2 differences 1 and 3: scale 2
    assert m4.mase(actual, forecast, insample, season=2) == pytest.approx(10 / 2)


def test_a_short_or_flat_series_is_not_seasonal_and_naive2_repeats_the_last_value():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert not m4.is_seasonal(x, 4)
    np.testing.assert_allclose(m4.naive2(x, 3, 4), [5.0, 5.0, 5.0])


def test_naive2_reseasonalises_a_multiplicative_pattern():
    figure = np.array([0.5, 1.0, 1.5, 1.0])
    x = 10 * np.tile(figure, 6)
    assert m4.is_seasonal(x, 4)
    np.testing.assert_allclose(m4.seasonal_indices(x, 4)[:4], figure)
    # Last point has index 1.0 and value 10: level 10, then the pattern continues.
    np.testing.assert_allclose(m4.naive2(x, 6, 4), 10 * np.resize(figure, 6))


def test_owa_of_naive2_itself_is_one_and_a_perfect_forecast_zero():
    rng = np.random.default_rng(0)
    train = {f"H{i}": 50 + 10 * np.sin(np.arange(96) * np.pi / 6) + rng.normal(size=96) for i in range(3)}
    test = {k: 50 + 10 * np.sin(np.arange(96, 108) * np.pi / 6) for k in train}
    naive2 = {k: m4.naive2(v, 12, 12) for k, v in train.items()}
    assert m4.score(train, test, naive2, season=12).owa == pytest.approx(1.0)
    assert m4.score(train, test, test, season=12).owa == 0.0


def test_a_missing_forecast_is_an_error():
    train = {"H1": np.arange(1.0, 50.0)}
    with pytest.raises(ValueError, match="lack a finite forecast"):
        m4.score(train, {"H1": np.ones(4)}, {}, season=12)


def test_load_and_write_round_trip_with_short_rows(tmp_path):
    source = tmp_path / "train.csv"
    source.write_text('"V1","V2","V3","V4"\n"H1",1,2,3\n"H2",4,5,\n')
    series = m4.load_m4(source)
    assert list(series) == ["H1", "H2"]
    np.testing.assert_allclose(series["H2"], [4.0, 5.0])
    out = tmp_path / "out.csv"
    m4.write_forecasts(out, series)
    again = m4.load_m4(out)
    np.testing.assert_allclose(again["H1"], [1.0, 2.0, 3.0])
