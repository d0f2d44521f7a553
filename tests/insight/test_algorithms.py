"""The root-cause maths on hand-made series, and goal 1 on generated incidents (pure, no database)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from insight import algorithms as alg
from insight.synthetic import make_case


def test_to_grid_averages_buckets_and_leaves_gaps():
    grid = alg.to_grid(np.array([0, 30, 60, 200]), np.array([1.0, 3.0, 5.0, 7.0]), start=0, step=60, n=4)
    assert grid[0] == 2.0
    assert grid[1] == 5.0
    assert np.isnan(grid[2])
    assert grid[3] == 7.0


def test_fill_gaps_carries_values_forward_and_back():
    m = np.array([[np.nan, 1, np.nan, 3], [np.nan] * 4])
    filled = alg.fill_gaps(m)
    assert filled[0].tolist() == [1, 1, 1, 3]
    assert np.isnan(filled[1]).all()


def test_ks_statistic_matches_scipy_with_ties():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 10, (4, 80)).astype(float)
    b = rng.integers(2, 14, (4, 25)).astype(float)
    expected = [ks_2samp(a[i], b[i]).statistic for i in range(4)]
    assert alg.ks_statistic(a, b) == pytest.approx(expected)


def test_step_filter_turns_a_level_shift_into_one_peak():
    x = np.zeros((1, 20))
    x[0, 10:] = 3.0
    f = alg.step_filter(x, 3)[0]
    assert int(np.argmax(f)) == 10
    assert f[10] == pytest.approx(3.0)
    assert f[:7].tolist() == [0.0] * 7


def test_lag_sign_positive_means_the_candidate_moved_first():
    rng = np.random.default_rng(1)
    target = rng.standard_normal(300)
    leader = np.roll(target, -4)  # leader[t] = target[t + 4]: it shows each value 4 steps earlier
    follower = np.roll(target, 6)
    corr, lags = alg.lagged_xcorr(target, np.vstack([leader, follower]), 10)
    best, lag = alg.best_lag(corr, lags)
    assert lag.tolist() == [4, -6]
    assert (best > 0.9).all()


def test_window_xcorr_matches_a_step_in_the_window():
    n = 200
    target = np.zeros(n)
    target[170:] = 5
    cand = np.zeros((2, n))
    cand[0, 167:] = -2  # moved 3 steps before, the other way
    cand[1, 60:] = 2  # long before the window
    f = alg.step_filter(np.vstack([target, cand]), 5)
    corr, lags = alg.window_xcorr(f[0], f[1:], start=150, max_lag=30)
    best, lag = alg.best_lag(corr, lags)
    assert lag[0] == 3
    assert best[0] == pytest.approx(-1.0, abs=0.01)
    assert abs(best[1]) < 0.1


def test_change_scores_single_out_a_shift_over_noise_and_a_random_walk():
    rng = np.random.default_rng(3)
    n, split = 400, 340
    shifted = 50 + rng.standard_normal(n)
    shifted[350:] += 5
    noise = 50 + rng.standard_normal(n)
    walk = 50 + np.cumsum(rng.standard_normal(n))
    change = alg.change_scores(np.vstack([shifted, noise, walk]), split)
    assert np.argmax(change.score) == 0
    assert change.surprise[0] > 2 > change.surprise[1]
    assert change.robust_z[0] > 3
    assert change.ks[0] > 0.8
    assert change.shift[0] == pytest.approx(5, abs=1)


def test_lag_weights_prefer_recent_leaders_over_old_leads_and_followers():
    lags = np.array([-10, -1, 0, 3, 5, 15, 30])
    w = alg.lag_weights(lags, 30)
    assert w[1] == w[2] == w[3] == w[4] == 1.0
    assert w[0] == 0.25
    assert 1.0 > w[5] > w[6] > 0


def test_anomaly_rate_shift():
    ts = np.arange(10.0)
    scores = np.array([0, 0, 0, 0.9, 0, 0.9, 0.9, 0.9, 0.9, 0.2])
    shift = alg.anomaly_rate_shift([scores, None], 5.0, [ts, None])
    assert shift[0] == pytest.approx(0.8 - 0.2)
    assert shift[1] == 0


def test_rank_candidates_without_target_uses_change_only():
    rng = np.random.default_rng(5)
    m = 10 + rng.standard_normal((5, 300))
    m[2, 280:] += 8
    ranking = alg.rank_candidates(m, split=260)
    assert ranking.order[0] == 2
    assert np.isnan(ranking.corr).all()


def test_correlation_matrix_finds_lag_and_sign():
    rng = np.random.default_rng(2)
    business = np.cumsum(rng.standard_normal(500))
    latency = -np.roll(business, -7) + 0.1 * rng.standard_normal(500)  # moves 7 steps earlier, inverted
    unrelated = np.cumsum(rng.standard_normal(500))
    corr, lag = alg.correlation_matrix(np.vstack([latency, unrelated]), business[None, :], max_lag=20, method="diff")
    assert lag[0, 0] == 7
    assert corr[0, 0] < -0.8
    assert abs(corr[1, 0]) < 0.5
    corr, lag = alg.correlation_matrix(np.vstack([latency]), business[None, :], max_lag=20, method="rank")
    assert corr[0, 0] < -0.9


def test_goal_1_the_planted_cause_ranks_first_in_at_least_90_percent_of_cases():
    """B shifts 3 minutes before A breaches, among 500 unrelated series (random walks, seasonal
    noise, 5 % with their own shift at a random minute of the day); 20 fixed cases."""
    hits = 0
    for seed in range(1000, 1020):
        case = make_case(seed)
        window = case.values[:, case.t0 - 390 :]  # 6 h of baseline + 30 min lead + 30 min after
        ranking = alg.rank_candidates(window[1:], split=360, target=window[0], max_lag=30)
        hits += ranking.order[0] == 0
    assert hits >= 18
