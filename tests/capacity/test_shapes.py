"""Issue 22: the capacity forecast on shapes real resources have (capacity/shapes.py, written
apart from the generator the first method was tuned on). bench/capacity_eval.py scores them by
cross-validation across shapes; here a held-out seed checks the behaviour shape by shape."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity import calculations as calc
from capacity.analysis.history import mid_bucket
from capacity.shapes import NEVER, SHAPES, make_case

DAY = 86400.0
SEED = 7_000  # the bench uses seed 22; the settings were chosen there


def analyse(case, horizon=90.0):
    ts = mid_bucket(case.ts, end=case.now)
    fit = calc.fit_growth(ts, case.values, now=case.now, days=horizon, limit=case.limit, seed=case.seed)
    return fit, calc.exhaustion(fit, limit=case.limit, horizon_days=horizon)


def within(ex, truth) -> bool:
    if not np.isfinite(truth):
        return ex.p50 is None
    return ex.p50 is not None and abs(ex.p50 - truth) <= 0.1 * truth


def covered(ex, truth) -> bool:
    lo = ex.p10 if ex.p10 is not None else np.inf
    hi = ex.p90 if ex.p90 is not None else np.inf
    return lo <= truth <= hi


def test_held_out_shapes_meet_the_bar():
    cases = [make_case(shape, SEED + i) for shape in SHAPES for i in range(2)]
    results = [analyse(c)[1] for c in cases]
    hit = np.mean([within(ex, c.truth_s) for c, ex in zip(cases, results, strict=True)])
    cover = np.mean([covered(ex, c.truth_s) for c, ex in zip(cases, results, strict=True)])
    assert hit >= 0.8, hit
    assert cover >= 0.8, cover


def test_weekly_resets_project_the_peaks():
    """Weekly log rotation is not a fresh start: the sawtooth's peaks are projected."""
    case = make_case("rotation_weekly", SEED + 1)
    fit, ex = analyse(case)
    assert fit.model.startswith("sawtooth")
    assert abs(fit.period_days - 7) < 0.7
    assert not any(c.kind == "step" for c in fit.changes)
    assert "peaks are projected" in " ".join(fit.notes)
    assert within(ex, case.truth_s)
    assert covered(ex, case.truth_s)


def test_daily_rotation_is_a_daily_cycle_not_a_fresh_start():
    """A daily sawtooth is fitted as a daily cycle on a trend (its peaks are the cycle's), never
    as the last tooth's slope ("full in 2 days" for weeks of room)."""
    for i in range(3):
        case = make_case("rotation_daily", SEED + i)
        fit, ex = analyse(case)
        assert fit.model.endswith("+seasonal")
        assert within(ex, case.truth_s), i


def test_a_growth_rate_change_without_a_jump_is_seen():
    case = make_case("rate_change", SEED)
    fit, ex = analyse(case)
    assert fit.weights.get("hinge", 0) > 0.5
    assert fit.rate_change_at is not None
    assert "growth rate" in calc.range_confidence(fit, ex)[1]
    assert covered(ex, case.truth_s)


def test_business_hours_peaks_are_not_underestimated():
    case = make_case("business_hours", SEED)
    fit, ex = analyse(case)
    assert fit.model.endswith("+seasonal")
    assert within(ex, case.truth_s)


def test_a_holiday_is_not_a_change():
    case = make_case("weekly_holiday", SEED + 1)
    fit, ex = analyse(case)
    assert not [c for c in fit.changes if c.kind == "reset"]
    assert covered(ex, case.truth_s)


@pytest.mark.parametrize("shape", NEVER)
def test_never_filling_shapes_do_not_fill(shape):
    for i in range(3):
        _, ex = analyse(make_case(shape, SEED + i))
        assert ex.p50 is None, shape


def test_half_hour_offset():
    """Hourly means stamped at the start of the hour put a forecast half an hour early; the
    middle of the hour (of the part so far, for the hour in progress) does not."""
    starts = np.array([0.0, 3600.0, 7200.0])
    assert mid_bucket(starts, end=7200.0 + 1200.0).tolist() == [1800.0, 5400.0, 7800.0]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared, busy machine
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=50), st.integers(0, 3599))
def test_mid_bucket_stays_inside_its_bucket(hours, into):
    starts = np.unique(np.array(hours, dtype=float)) * 3600.0
    end = starts[-1] + into + 1
    mid = mid_bucket(starts, end=end)
    assert np.all(mid >= starts)
    assert np.all(mid <= np.minimum(starts + 3600, end))
    assert np.all(np.diff(mid) > 0)


def test_too_little_history_is_refused():
    """72 hourly buckets: what a 28-day backfill read as once TimescaleDB's refresh had run."""
    ts = 1_790_000_000.0 - np.arange(72)[::-1] * 3600.0
    assert "at least 4 days" in calc.history_shortfall(ts)
    assert calc.fit_growth(ts, 50 + 0 * ts, now=ts[-1], days=30, limit=100) is None
    assert calc.history_shortfall(np.arange(5 * 24) * 3600.0) is None


def test_range_confidence_is_high_for_steady_growth():
    ts = 1_790_000_000.0 - np.arange(21 * 24)[::-1] * 3600.0
    y = 50 + 1.5 * (ts - ts[-1]) / DAY + np.random.default_rng(1).normal(0, 0.5, len(ts))
    fit = calc.fit_growth(ts, y, now=ts[-1], days=90, limit=100, seed=1)
    ex = calc.exhaustion(fit, limit=100, horizon_days=90)
    label, reason = calc.range_confidence(fit, ex)
    assert label == "high", reason
