"""Pure SLO maths against hand-computed values (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td
from decimal import Decimal

import numpy as np
import pytest

from slo import calculations as calc
from slo.windows import month_bounds, window_bounds

EXACT = {"abs": 1e-9, "rel": 0}
NAN = np.nan


def test_counter_increase_handles_gaps_and_resets():
    last = np.array([10.0, 12.0, NAN, 20.0, 5.0, 9.0])
    got = calc.counter_increase(last)
    assert np.isnan(got[2])
    assert got[[0, 1, 3, 4, 5]].tolist() == [0.0, 2.0, 8.0, 5.0, 4.0]


def test_counter_increase_restarts_after_a_long_silence():
    last = np.full(70, NAN)
    last[0], last[65], last[66] = 5.0, 50.0, 53.0
    got = calc.counter_increase(last)
    assert (got[0], got[65], got[66]) == (0.0, 0.0, 3.0)


def test_event_minutes_from_a_bad_counter_clip_into_total():
    good, total = calc.event_minutes(None, np.array([1.0, NAN, 30.0]), np.array([10.0, 5.0, 20.0]))
    assert good.tolist() == [9.0, 5.0, 0.0]
    assert total.tolist() == [10.0, 5.0, 20.0]


def test_availability_is_the_mean_up_of_reporting_series():
    a = np.array([1.0, 0.0, NAN, NAN])
    b = np.array([1.0, 1.0, 0.5, NAN])
    good, total = calc.availability_minutes([a, b], 4)
    assert good[:3].tolist() == [1.0, 0.5, 0.5]
    assert np.isnan(good[3])
    assert np.isnan(total[3])


def test_bound_minutes_judge_the_worst_series():
    a = np.array([100.0, 250.0, NAN])
    b = np.array([150.0, 120.0, NAN])
    good, total = calc.bound_minutes([a, b], 3, "lte", 200.0)
    assert good[:2].tolist() == [1.0, 0.0]
    assert total[:2].tolist() == [1.0, 1.0]
    good, _ = calc.bound_minutes([a, b], 3, "gte", 120.0)
    assert good[:2].tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("policy", "good", "total"),
    [("unknown", 900.0, 1000.0), ("good", 1100.0, 1200.0), ("bad", 900.0, 1200.0)],
)
def test_event_gaps_count_as_the_window_mean_traffic(policy, good, total):
    # 10 observed minutes of 100 events each, 2 gap minutes: a gap stands for 100 events.
    window = calc.Sums(good=900.0, total=1000.0, observed=10, minutes=12)
    fill = calc.gap_fill(window, time_based=False)
    assert fill == 100.0
    assert calc.with_gaps(window, policy=policy, fill=fill) == (good, total)


def test_time_based_gaps_count_as_minutes():
    window = calc.Sums(good=50.0, total=58.0, observed=58, minutes=60)
    assert calc.with_gaps(window, policy="bad", fill=calc.gap_fill(window, time_based=True)) == (50.0, 60.0)


def rolling_status(**kw):
    as_of = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    start, end = window_bounds("30d", "UTC", as_of)
    defaults = {
        "window": calc.Sums(good=4_320_000 - 3780, total=4_320_000, observed=43200, minutes=43200),
        "burn": {
            "5m": calc.Sums(425, 500, 5, 5),
            "1h": calc.Sums(5100, 6000, 60, 60),
            "1d": calc.Sums(144_000 - 900, 144_000, 1440, 1440),
        },
        "objective": 0.999,
        "policy": "unknown",
        "time_based": False,
        "as_of": as_of,
        "window_start": start,
        "window_end": end,
    }
    return calc.status_from_sums(**{**defaults, **kw})


def test_rolling_window_budget_and_burn_rates():
    s = rolling_status()
    assert s.attainment == pytest.approx(0.999125, **EXACT)
    assert s.sli == pytest.approx(0.85, **EXACT)
    assert s.budget_units == pytest.approx(4320, **EXACT)
    assert s.consumed_units == pytest.approx(3780, **EXACT)
    assert s.budget_remaining == pytest.approx(0.125, **EXACT)
    assert s.budget_s == pytest.approx(2592, **EXACT)  # 0.1 % of 30 days
    assert s.consumed_s == pytest.approx(2268, **EXACT)
    assert s.remaining_s == pytest.approx(324, **EXACT)
    assert s.burn_rates["5m"] == pytest.approx(150, **EXACT)
    assert s.burn_rates["1d"] == pytest.approx(6.25, **EXACT)
    # 12.5 % of a 30-day budget at 6.25x lasts 0.125 * 30 d / 6.25 = 14.4 h.
    assert s.exhaustion_at == datetime(2026, 3, 11, 2, 24, tzinfo=UTC)
    assert not s.exhausted


def test_no_burn_means_no_exhaustion_date():
    s = rolling_status(burn={"5m": calc.Sums(500, 500, 5, 5), "1d": calc.Sums(100, 100, 1440, 1440)})
    assert s.exhaustion_at is None
    assert s.burn_rates["1d"] == 0.0


def test_overspent_budget_is_exhausted():
    s = rolling_status(window=calc.Sums(good=90, total=100, observed=100, minutes=100))
    assert s.exhausted
    assert s.exhaustion_at is None
    assert s.budget_remaining == pytest.approx(1 - 10 / 0.1, **EXACT)


def test_berlin_march_is_an_hour_short():
    start, end = month_bounds(2026, 3, "Europe/Berlin")
    assert start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert (end - start) / td(minutes=1) == 31 * 1440 - 60
    start, end = month_bounds(2026, 10, "Europe/Berlin")
    assert (end - start) / td(minutes=1) == 31 * 1440 + 60


def test_calendar_month_budget_is_for_the_whole_month():
    # Berlin, March 2026 (44,580 minutes), 42,540 minutes elapsed, 50 bad minutes, 99.8 %.
    as_of = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
    start, end = window_bounds("month", "Europe/Berlin", as_of)
    s = calc.status_from_sums(
        window=calc.Sums(good=42470, total=42520, observed=42520, minutes=42540),
        burn={"1d": calc.Sums(1440, 1440, 1440, 1440)},
        objective=0.998,
        policy="bad",
        time_based=True,
        as_of=as_of,
        window_start=start,
        window_end=end,
    )
    assert s.attainment == pytest.approx(42470 / 42540, **EXACT)
    assert s.budget_units == pytest.approx(0.002 * 44580, **EXACT)
    assert s.budget_s == pytest.approx(0.002 * 44580 * 60, **EXACT)
    assert s.consumed_s == pytest.approx(70 * 60, **EXACT)  # 50 bad + 20 gap minutes
    assert s.budget_remaining == pytest.approx(1 - 70 / 89.16, **EXACT)


def test_factors_scale_with_the_window():
    assert calc.scaled_factor(14.4, 30 * 86400) == pytest.approx(14.4, **EXACT)
    assert calc.scaled_factor(14.4, 7 * 86400) == pytest.approx(3.36, **EXACT)


RATES = {"5m": 150.0, "30m": 150.0, "1h": 150.0, "2h": 75.0, "6h": 25.0, "1d": 6.25, "3d": 8.75}
EVENTS = dict.fromkeys(RATES, 1000.0)
ALL = ["page_fast", "page_slow", "ticket_fast", "ticket_slow"]


def test_every_tier_trips_but_the_slo_pages_once():
    tripped = calc.tiers_tripped(rates=RATES, events=EVENTS, enabled=ALL, window_s=30 * 86400, min_events=10)
    assert tripped == ALL
    assert calc.alerting_tiers(tripped) == ("page_fast", None)


def test_a_ticket_alone_when_no_page_tier_trips():
    rates = {**RATES, "5m": 1.0, "30m": 1.0}
    tripped = calc.tiers_tripped(rates=rates, events=EVENTS, enabled=ALL, window_s=30 * 86400, min_events=10)
    assert calc.alerting_tiers(tripped) == (None, "ticket_fast")


def test_disabled_tiers_and_low_traffic_do_not_trip():
    tripped = calc.tiers_tripped(
        rates=RATES, events=EVENTS, enabled=["page_slow", "ticket_slow"], window_s=30 * 86400, min_events=10
    )
    assert tripped == ["page_slow", "ticket_slow"]
    quiet = {**EVENTS, "1h": 9.0}
    tripped = calc.tiers_tripped(rates=RATES, events=quiet, enabled=ALL, window_s=30 * 86400, min_events=10)
    assert tripped == ["page_slow", "ticket_fast", "ticket_slow"]


def test_sla_figures_time_based():
    good = np.ones(100)
    total = np.ones(100)
    good[10:13] = 0.0  # one 3-minute outage
    good[50] = 0.0  # and a 1-minute one
    total[70:72] = NAN  # a 2-minute gap, counted as downtime
    good[70:72] = NAN
    tiers = [{"below": 99.0, "credit_percent": 25}, {"below": 99.9, "credit_percent": 10}]
    f = calc.sla_figures(good, total, policy="bad", time_based=True, target=0.999, tiers=tiers, fee=Decimal("1000.00"))
    assert f.achieved == pytest.approx(94 / 100, **EXACT)
    assert f.downtime_minutes == 6
    assert f.breaches == 3
    assert f.breached
    assert (f.credit_percent, f.credit) == (25.0, Decimal("250.00"))


def test_sla_figures_event_based_downtime_is_minutes_below_target():
    total = np.full(10, 100.0)
    good = np.full(10, 100.0)
    good[3] = 99.0  # 99 % < 99.5 %: a downtime minute
    good[4] = 99.6  # 99.6 % >= 99.5 %: fine
    f = calc.sla_figures(good, total, policy="unknown", time_based=False, target=0.995, tiers=[], fee=Decimal(0))
    assert f.downtime_minutes == 1
    assert f.breaches == 1
    assert f.achieved == pytest.approx(1 - 1.4 / 1000, **EXACT)
    assert not f.breached
