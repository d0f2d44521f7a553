"""Cross-validation protocols of the benchmark commands (evaluation/crossval.py)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from forecasting.algorithms.detection import detector
from forecasting.algorithms.forecast import profiles, registry
from forecasting.algorithms.forecast.selection import RULES, Rule
from forecasting.algorithms.forecast.variants import forecast_variants
from forecasting.evaluation import crossval, detector_variants, forecast_settings, m4, nab

STAMPS = [f"2020-01-01 00:{m:02d}:00" for m in range(40)]
WINDOW = [(STAMPS[20], STAMPS[23])]


def scores_with(**hits: float) -> list[float]:
    out = [0.0] * 40
    for key, value in hits.items():
        out[int(key[1:])] = value
    return out


def test_the_held_out_category_is_scored_at_the_threshold_of_the_others():
    # Category a detects its window at 0.9, category b only at 0.5, and a has a false alarm at 0.6:
    # trained on a alone the threshold is 0.9 and b's window is missed when b is held out.
    files = {
        "a/one.csv": (STAMPS, scores_with(r10=0.6, r20=0.9), WINDOW),
        "b/two.csv": (STAMPS, scores_with(r20=0.5), WINDOW),
    }
    result = crossval.nab_cross_validate({"only": files})
    folds = {fold["held_out"]: fold for fold in result["folds"]}
    assert folds["b"]["thresholds"]["standard"] == pytest.approx(0.9)
    assert folds["b"]["scores"]["standard"] == 0.0  # missed: the null detector's score
    assert folds["a"]["thresholds"]["standard"] == pytest.approx(0.5)
    assert folds["a"]["false_positives"] == 1
    assert result["cv"]["standard"] < result["all_trained"]["standard"]
    assert result["all_trained"]["standard"] == nab.corpus_score(files)["standard"]["score"]


def test_each_fold_keeps_the_variant_that_wins_on_the_other_categories():
    good = {
        "a/one.csv": (STAMPS, scores_with(r20=0.9), WINDOW),
        "b/two.csv": (STAMPS, scores_with(r20=0.9), WINDOW),
        "c/three.csv": (STAMPS, scores_with(r5=0.95), WINDOW),
    }
    bad = {rel: (st, [0.0] * 40, win) for rel, (st, _, win) in good.items()}
    result = crossval.nab_cross_validate({"bad": bad, "good": good})
    assert [fold["variant"] for fold in result["folds"]] == ["good", "good", "good"]
    assert result["all_trained"]["variant"] == "good"


def test_m4_folds_partition_the_series_the_same_way_every_time():
    ids = [f"H{i}" for i in range(1, 23)]
    folds = crossval.m4_folds(ids, 5)
    assert sorted(k for fold in folds for k in fold) == sorted(ids)
    assert {len(fold) for fold in folds} == {4, 5}
    assert folds == crossval.m4_folds(ids, 5)
    with pytest.raises(ValueError, match="k must be"):
        crossval.m4_folds(ids, 1)
    with pytest.raises(ValueError, match="k must be"):
        crossval.m4_folds(ids, 23)


def seasonal_set(count: int, seed: int) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    train, test = {}, {}
    for i in range(count):
        t = np.arange(24 * 20 + 48)
        y = 50 + 10 * np.sin(2 * np.pi * t / 24 + i) + rng.normal(0, 1, len(t))
        train[f"H{i}"], test[f"H{i}"] = y[:-48], y[-48:]
    return train, test


def test_m4_cross_validation_forecasts_each_fold_with_the_variant_best_on_the_others():
    train, test = seasonal_set(10, 1)
    perfect = {k: v.copy() for k, v in test.items()}
    flat = {k: np.repeat(train[k][-1], 48) for k in train}
    result = crossval.m4_cross_validate(train, test, {"flat": flat, "perfect": perfect}, season=24, k=5)
    assert {fold["variant"] for fold in result["folds"]} == {"perfect"}
    assert result["cv"]["owa"] == 0.0
    assert result["all_trained"]["variant"] == "perfect"
    assert sum(fold["series"] for fold in result["folds"]) == 10
    assert set(result["held_out"]) == set(train)


def test_interval_coverage_counts_every_step():
    actual = {"a": np.array([1.0, 2.0, 3.0, 4.0])}
    cover = crossval.coverage(actual, {"a": np.array([0.0, 2.5, 2.5, 0.0])}, {"a": np.array([2.0, 3.0, 3.0, 5.0])})
    assert cover == 0.75


def test_a_median_combination_is_the_step_wise_median_and_names_its_members():
    name = registry.median_of(["theta", "snaive", "profile"])
    assert name == "median(snaive+profile+theta)"
    assert registry.members(name) == ["snaive", "profile", "theta"]
    assert registry.known(name)
    paths = {"snaive": np.array([1.0, 5.0]), "profile": np.array([2.0, 0.0]), "theta": np.array([9.0, 1.0])}
    assert registry.combine(paths, name).tolist() == [2.0, 1.0]


def test_rules_have_names_that_read_back():
    for rule in RULES:
        assert Rule.from_name(rule.name) == rule
    with pytest.raises(ValueError, match="unknown combination rule"):
        Rule.from_name("best3-inverse")


def test_every_rule_forecasts_a_series_with_intervals_from_one_backtest():
    train, test = seasonal_set(1, 2)
    out = forecast_variants(train["H0"], horizon=48, season=(24, 168))
    assert set(out) == {rule.name for rule in RULES}
    for prediction in out.values():
        bounds = (prediction.lo95, prediction.lo80, prediction.mean, prediction.hi80, prediction.hi95)
        for lower, upper in pairwise(bounds):
            assert np.all(lower <= upper)
        assert m4.smape(test["H0"], prediction.mean) < 10
    assert registry.known(out["top3-median"].model)


def test_settings_change_the_profile_models_and_restore_production_afterwards():
    train, _ = seasonal_set(1, 3)
    y = train["H0"] + np.linspace(0, 20, len(train["H0"]))
    production = registry.fit_predict("profile", y, (24,), 24)
    forecast_settings.use("cycles7")
    try:
        assert profiles.CYCLES == 7
        assert not np.allclose(registry.fit_predict("profile", y, (24,), 24), production)
    finally:
        forecast_settings.use("production")
    assert profiles.CYCLES == 14
    assert np.allclose(registry.fit_predict("profile", y, (24,), 24), production)
    with pytest.raises(ValueError, match="unknown forecaster settings"):
        forecast_settings.parse("production,nope")


def test_detector_variants_restore_the_production_constants():
    detector_variants.use("rest50")
    try:
        assert detector.REST == 50
    finally:
        detector_variants.use("production")
    assert detector.REST == 100  # the production value
    assert detector_variants.parse(None) == list(detector_variants.DEFAULT_CV)
    assert detector_variants.parse("all") == list(detector_variants.VARIANTS)
    with pytest.raises(ValueError, match="unknown detector variants"):
        detector_variants.parse("nope")
