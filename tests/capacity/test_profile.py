"""The daily profile and the evidence behind the model choice (issue 22, across generator seeds):
one value per hour instead of a few sines, seasonal terms only where they pay, the change
detector's profile clipped per hour, crossings up to a bucket early, and an effective sample size
that sees day-long wander."""

from __future__ import annotations

import numpy as np
import pytest

from capacity import calculations as calc
from capacity.analysis.changes import daily_profile
from capacity.analysis.growth import one_off_changes
from capacity.analysis.history import mid_bucket
from capacity.analysis.regression import effective_n, hats, seasonal_columns, seasonal_that_pays
from capacity.shapes import business_profile, make_case

DAY = 86400.0
NOW = 1_790_000_000.0


def hourly(days: float) -> np.ndarray:
    return NOW - (np.arange(int(days * 24))[::-1] + 0.5) * 3600.0


def test_hats_sum_to_one_and_interpolate_between_hour_middles():
    e = np.linspace(0.0, 3.0, 1000)
    h = np.array(hats(e, 24))
    assert np.allclose(h.sum(axis=0), 1.0)
    assert np.all(h >= 0)
    # At an hour's middle only that hour's hat is on; a quarter past, 3/4 of it and 1/4 of the last.
    at = np.array([(9 + 0.5) / 24, (9 + 0.25) / 24])
    h = np.array(hats(at, 24))
    assert h[9, 0] == pytest.approx(1.0)
    assert (h[9, 1], h[8, 1]) == (pytest.approx(0.75), pytest.approx(0.25))


def test_a_business_day_plateau_is_fitted_without_overshoot():
    """Four sines put the plateau's top too high (crossings days early); hourly values do not."""
    ts = hourly(21)
    t = (ts - NOW) / DAY
    y = 30 + 25 * business_profile(t + (NOW - 1_790_001_234.0) / DAY, 8.0, 17.0)
    x = np.column_stack([np.ones(len(ts)), *seasonal_columns(ts / DAY, True, True)])
    fitted = x @ np.linalg.lstsq(x, y, rcond=None)[0]
    angle = 2 * np.pi * ts / DAY
    weekend = (np.mod(np.floor(ts / DAY) + 3, 7) >= 5).astype(float)
    sines = [f(k * angle) * w for k in range(1, 5) for f in (np.sin, np.cos) for w in (1.0 - weekend, weekend)]
    fourier = np.column_stack([np.ones(len(ts)), weekend, *sines])
    rounded = fourier @ np.linalg.lstsq(fourier, y, rcond=None)[0]
    assert np.max(fitted) - np.max(y) < 1.0
    assert np.max(rounded) - np.max(y) > 2 * (np.max(fitted) - np.max(y))
    assert np.mean(np.abs(fitted - y)) < 0.5 * np.mean(np.abs(rounded - y))


def test_seasonal_terms_only_where_they_pay():
    rng = np.random.default_rng(4)
    ts = hourly(21)
    t = (ts - NOW) / DAY
    base = np.column_stack([np.ones(len(ts)), t])
    noise = 50 + 0.5 * t + rng.normal(0, 1.0, len(ts))
    assert seasonal_that_pays(base, ts / DAY, noise, True, "sine") == (False, False)
    daily = noise + 8 * np.sin(2 * np.pi * ts / DAY)
    assert seasonal_that_pays(base, ts / DAY, daily, True, "sine") == (True, False)
    weekend = (np.mod(np.floor(ts / DAY) + 3, 7) >= 5).astype(float)
    weekly = noise - 15 * weekend
    assert seasonal_that_pays(base, ts / DAY, weekly, True, "sine") == (False, "sine")


@pytest.mark.parametrize("seed", [24001, 25000])
def test_a_business_day_is_not_a_change(seed):
    """Seeds where a flattened profile left every morning's rise as a step (the fit then used a
    day or two of data): clipped per hour, the profile takes the day out."""
    case = make_case("business_hours", seed)
    ts = mid_bucket(case.ts, end=case.now)
    assert one_off_changes(ts, case.values, limit=100.0) == []
    rest = case.values - daily_profile(ts, case.values)
    assert np.std(np.diff(rest)) < 0.5 * np.std(np.diff(case.values))  # the mornings and evenings are gone


def test_a_crossing_can_be_up_to_a_bucket_before_the_hourly_means_show_it():
    ts = hourly(10)
    y = 50 + 2 * (ts - NOW) / DAY + np.random.default_rng(2).normal(0, 0.3, len(ts))
    fit = calc.fit_growth(ts, y, now=NOW, days=60, limit=100, seed=3)
    assert fit.lead is not None
    assert len(fit.lead) == len(fit.paths)
    assert np.all((fit.lead >= 0) & (fit.lead <= 3600.0))
    early = calc.exhaustion(fit, limit=100, horizon_days=60)
    fit.lead = None
    late = calc.exhaustion(fit, limit=100, horizon_days=60)
    assert 0 < late.p50 - early.p50 <= 3600.0
    assert 24 * DAY < early.p50 < 26 * DAY


def test_day_long_wander_lowers_the_effective_sample_size():
    """Residuals whose daily means wander are fewer independent facts than one lag shows, so a
    noisy day is not evidence enough for a growth-rate change."""
    rng = np.random.default_rng(5)
    white = rng.normal(0, 1.0, 24 * 20)
    wander = white + np.repeat(rng.normal(0, 1.0, 20), 24)
    assert effective_n(white) > 0.5 * len(white)  # the block estimate is itself noisy
    assert effective_n(wander) < 0.2 * len(wander)


def test_a_wrapping_counter_is_not_a_step_every_day():
    """Around a wrap the week-long running mean is far off for days; a profile bent by that put
    a step at the wrap's hour into every day (25 changes, a fit on the last day). The profile is
    left out when it does not smooth the hour-to-hour moves."""
    case = make_case("counter_wrap", 27003)
    ts = mid_bucket(case.ts, end=case.now)
    found = one_off_changes(ts, case.values, limit=100.0)
    assert 1 <= len(found) <= 3
    assert any(c.kind == "reset" and c.size < -50 for _, c in found)  # the wraps are seen
    fit = calc.fit_growth(ts, case.values, now=case.now, days=90, limit=100.0, seed=case.seed)
    ex = calc.exhaustion(fit, limit=100.0, horizon_days=90)
    assert abs(ex.p50 - case.truth_s) <= 0.1 * case.truth_s
