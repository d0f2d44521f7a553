"""SLO status from rollups, end to end through recording and the batched status query, against
hand-computed values with frozen time: a rolling window, a Berlin calendar month across the DST
change and the month boundary, gaps, and the other SLI kinds."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import numpy as np
import pytest
import time_machine

from slo import recording
from slo.models import SLO, SLOHour
from slo.selectors import slo_history, slo_status
from slo.services import slo_save, slos_evaluate
from tests.slo.slo_factories import cumulative, minutes_between, series, slo, write_minutes

EXACT = {"abs": 1e-9, "rel": 0}
pytestmark = pytest.mark.usefixtures("storage_clean")

NOW = datetime(2026, 3, 10, 12, 1, tzinfo=UTC)  # settled end: 12:00
END = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DATA_START = datetime(2026, 2, 1, tzinfo=UTC)


def burning_counters(team):
    """100 requests a minute; 1 error a minute from 3 d to 1 d ago and 15 a minute in the last hour."""
    n = minutes_between(DATA_START, END)
    bad = np.zeros(n)
    bad[n - 3 * 1440 : n - 1440] = 1
    bad[n - 60 :] = 15
    write_minutes(series(team, "http_requests_total", service="checkout"), DATA_START, cumulative(np.full(n, 100)))
    write_minutes(series(team, "http_errors_total", service="checkout"), DATA_START, cumulative(bad))


@time_machine.travel(NOW, tick=False)
def test_rolling_window_status_from_cumulative_counters(team):
    burning_counters(team)
    objective = slo(team)
    slos_evaluate()
    s = slo_status(SLO.objects.get(pk=objective.pk))
    assert s.as_of == END
    assert s.total == 43200 * 100
    assert s.attainment == pytest.approx(1 - 3780 / 4_320_000, **EXACT)
    assert s.sli == pytest.approx(0.85, **EXACT)
    assert s.budget_remaining == pytest.approx(0.125, **EXACT)
    assert s.remaining_s == pytest.approx(324, **EXACT)
    expected = {"5m": 150, "30m": 150, "1h": 150, "2h": 75, "6h": 25, "1d": 6.25, "3d": 8.75}
    assert s.burn_rates == pytest.approx(expected, **EXACT)
    assert s.exhaustion_at == datetime(2026, 3, 11, 2, 24, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_label_selected_good_counter_and_delta_counters(team):
    """Good events are the same metric narrowed by labels; delta counters count per sample."""
    n = minutes_between(DATA_START, END)
    ok = np.full(n, 98.0)
    errors = np.full(n, 2.0)
    write_minutes(series(team, "requests", code="200"), DATA_START, ok)
    write_minutes(series(team, "requests", code="500"), DATA_START, errors)
    objective = slo(
        team,
        total_metric="requests",
        bad_metric="",
        good_metric="requests",
        good_matchers=[{"name": "code", "op": "!~", "value": "5.."}],
        counter_type=SLO.CounterType.DELTA,
        objective=99.0,
        window=SLO.Window.D7,
    )
    slos_evaluate()
    s = slo_status(objective)
    assert s.attainment == pytest.approx(0.98, **EXACT)
    assert s.burn_rates["1h"] == pytest.approx(2.0, **EXACT)
    assert s.budget_remaining == pytest.approx(-1.0, **EXACT)
    assert s.exhausted


BERLIN_NOW = datetime(2026, 3, 30, 12, 1, tzinfo=UTC)
BERLIN_END = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)


def berlin_latency(team):
    """p95 latency 100 ms a minute from 27 Feb; 300 ms for the last Berlin hour of February (must
    not count in March), 30 bad minutes just before the DST jump, a 20-minute gap just after."""
    start = datetime(2026, 2, 27, tzinfo=UTC)
    values = np.full(minutes_between(start, BERLIN_END), 100.0)

    def at(t: datetime) -> int:
        return minutes_between(start, t)

    values[at(datetime(2026, 2, 28, 22, 0, tzinfo=UTC)) : at(datetime(2026, 2, 28, 23, 0, tzinfo=UTC))] = 300
    values[at(datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) : at(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))] = 300
    values[at(datetime(2026, 3, 29, 2, 0, tzinfo=UTC)) : at(datetime(2026, 3, 29, 2, 20, tzinfo=UTC))] = np.nan
    write_minutes(series(team, "latency_p95", service="checkout"), start, values)


@time_machine.travel(BERLIN_NOW, tick=False)
def test_calendar_month_in_berlin_across_dst_with_bad_gaps(team):
    berlin_latency(team)
    objective = slo(
        team,
        sli_kind=SLO.Kind.THRESHOLD,
        metric="latency_p95",
        bound_op="lte",
        bound=200,
        total_metric="",
        bad_metric="",
        objective=99.8,
        window=SLO.Window.MONTH,
        timezone="Europe/Berlin",
        gap_policy=SLO.GapPolicy.BAD,
    )
    slos_evaluate()
    s = slo_status(objective)
    assert s.window_start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert s.window_end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    elapsed = 29 * 1440 + 13 * 60  # 28 Feb 23:00 → 30 Mar 12:00 UTC
    assert s.total == elapsed
    assert s.gap_minutes == 20
    assert s.attainment == pytest.approx((elapsed - 50) / elapsed, **EXACT)
    budget = 0.002 * (31 * 1440 - 60)  # the whole (short) month
    assert s.budget_units == pytest.approx(budget, **EXACT)
    assert s.budget_remaining == pytest.approx(1 - 50 / budget, **EXACT)
    assert s.consumed_s == pytest.approx(50 * 60, **EXACT)
    assert s.burn_rates["3d"] == pytest.approx(50 / 4320 / 0.002, **EXACT)
    assert s.burn_rates["1d"] == 0.0


@time_machine.travel(BERLIN_NOW, tick=False)
@pytest.mark.parametrize(("policy", "bad", "total"), [("good", 30, 0), ("unknown", 30, -20)])
def test_gap_policies(team, policy, bad, total):
    berlin_latency(team)
    objective = slo(
        team,
        sli_kind=SLO.Kind.THRESHOLD,
        metric="latency_p95",
        bound=200,
        total_metric="",
        bad_metric="",
        objective=99.8,
        window=SLO.Window.MONTH,
        timezone="Europe/Berlin",
        gap_policy=policy,
    )
    slos_evaluate()
    s = slo_status(objective)
    elapsed = 29 * 1440 + 13 * 60
    assert s.total == elapsed + total
    assert s.consumed_units == bad


@time_machine.travel(NOW, tick=False)
def test_latency_from_histogram_buckets_and_from_samples(team):
    n = minutes_between(DATA_START, END)
    count = series(team, "http_duration_seconds_count", service="api")
    fast = series(team, "http_duration_seconds_bucket", service="api", le="0.3")
    series(team, "http_duration_seconds_bucket", service="api", le="1")  # another bucket: ignored
    write_minutes(count, DATA_START, cumulative(np.full(n, 50)))
    write_minutes(fast, DATA_START, cumulative(np.full(n, 49)))
    buckets = slo(
        team,
        name="api latency",
        sli_kind=SLO.Kind.LATENCY,
        metric="http_duration_seconds",
        matchers=[{"name": "service", "op": "=", "value": "api"}],
        latency_threshold=0.3,
        total_metric="",
        bad_metric="",
        objective=95,
    )
    slos_evaluate()
    s = slo_status(buckets)
    assert s.attainment == pytest.approx(0.98, **EXACT)
    assert s.burn_rates["1d"] == pytest.approx(0.4, **EXACT)


@time_machine.travel(NOW, tick=False)
def test_availability_from_up_metrics(team):
    start = END - td(days=2)
    n = minutes_between(start, END)
    a = np.ones(n)
    a[-60:] = 0  # target a down for the last hour
    write_minutes(series(team, "up", job="web", instance="a"), start, a)
    write_minutes(series(team, "up", job="web", instance="b"), start, np.ones(n))
    objective = slo(
        team,
        name="web up",
        sli_kind=SLO.Kind.AVAILABILITY,
        metric="up",
        matchers=[{"name": "job", "op": "=", "value": "web"}],
        total_metric="",
        bad_metric="",
        objective=99.0,
        window=SLO.Window.D7,
    )
    slos_evaluate()
    s = slo_status(objective)
    assert s.total == n  # unknown gaps: only the two days with data count
    assert s.attainment == pytest.approx(1 - 30 / n, **EXACT)
    assert s.burn_rates["1h"] == pytest.approx(50.0, **EXACT)


@time_machine.travel(NOW, tick=False)
def test_recording_is_incremental_and_a_definition_change_records_again(team):
    burning_counters(team)
    objective = slo(team)
    slos_evaluate()
    hours = SLOHour.objects.filter(slo=objective).count()
    assert hours == 62 * 24  # backfill: 62 days
    with time_machine.travel(NOW + td(minutes=1), tick=False):
        report = slos_evaluate()
    assert report.hours_recorded == 2  # the last recorded hour again, and the new one
    objective.refresh_from_db()
    objective.bad_matchers = [{"name": "service", "op": "=", "value": "other"}]
    slo_save(slo=objective)
    assert not SLOHour.objects.filter(slo=objective).exists()
    slos_evaluate()
    assert slo_status(SLO.objects.get(pk=objective.pk)).attainment == 1.0


@time_machine.travel(NOW, tick=False)
def test_late_data_is_re_recorded(team, plain_layout):
    """Plain only: writes the hourly rollup table directly (a continuous aggregate on TimescaleDB)."""
    from django.db import connection

    burning_counters(team)
    objective = slo(team, bad_metric="", good_metric="http_requests_total", objective=50)
    slos_evaluate()
    with connection.cursor() as cursor:  # the hourly rollups say an old hour got more samples
        cursor.execute(
            "INSERT INTO metrics_rollup_1h SELECT series_id, date_trunc('hour', bucket), min(min), max(max), "
            "avg(avg), sum(count), max(last) FROM metrics_rollup_1m GROUP BY 1, 2"
        )
        cursor.execute("UPDATE metrics_rollup_1h SET count = count + 1 WHERE bucket = '2026-03-05 10:00+00'")
    assert recording.recheck([SLO.objects.get(pk=objective.pk)], END - td(days=35), END) == 1


@time_machine.travel(NOW, tick=False)
def test_history_charts_cover_the_window(team):
    burning_counters(team)
    objective = slo(team)
    slos_evaluate()
    objective.refresh_from_db()
    s = slo_status(objective)
    history = slo_history(objective, s)
    assert len(history["times"]) == 30 * 24
    assert history["sli"][-1] == pytest.approx(0.85, **EXACT)
    assert history["budget_remaining"][-1] == pytest.approx(0.125, **EXACT)
    assert history["budget_remaining"][0] == 1.0
