"""Pure rule maths: aggregation, thresholds with hysteresis, the `for` state machine, replay."""

from __future__ import annotations

import numpy as np
import pytest

from alerts.evaluation import CRITICAL, OK, WARNING, State, Thresholds, advance, aggregate, replay, threshold_level
from alerts.evaluators.threshold import window_aggregates

TS = np.array([0.0, 60.0, 120.0, 180.0])
VALUES = np.array([1.0, 5.0, 3.0, 11.0])


@pytest.mark.parametrize(
    ("how", "expected"),
    [("avg", 5.0), ("min", 1.0), ("max", 11.0), ("last", 11.0), ("p95", pytest.approx(10.1)), ("rate", 10.0 / 180)],
)
def test_aggregate(how, expected):
    assert aggregate(TS, VALUES, how) == expected


def test_aggregate_of_nothing_is_none():
    assert aggregate(np.empty(0), np.empty(0), "avg") is None
    assert aggregate(np.array([5.0]), np.array([1.0]), "rate") is None


GT = Thresholds("gt", critical=90, warning=75, recovery=60)


@pytest.mark.parametrize(
    ("value", "current", "level"),
    [
        (95, OK, CRITICAL),
        (80, OK, WARNING),
        (70, OK, OK),
        (70, CRITICAL, CRITICAL),  # above recovery: still firing (hysteresis)
        (59, CRITICAL, OK),
        (80, CRITICAL, WARNING),
    ],
)
def test_threshold_levels_with_hysteresis(value, current, level):
    assert threshold_level(value, GT, current) == level


def test_less_than_rules():
    low = Thresholds("lt", critical=5, warning=10, recovery=None)
    assert threshold_level(3, low, OK) == CRITICAL
    assert threshold_level(7, low, OK) == WARNING
    assert threshold_level(12, low, WARNING) == OK


def test_for_duration_holds_pending_then_fires():
    step = advance(State(), CRITICAL, now=0, for_s=120)
    assert step.transition == "pending"
    step = advance(step.state, WARNING, now=60, for_s=120)
    assert step.transition is None
    assert step.state.pending_level == CRITICAL  # the worst level seen while pending
    step = advance(step.state, CRITICAL, now=120, for_s=120)
    assert step.transition == "firing"
    assert step.state.level == CRITICAL


def test_for_zero_fires_at_once_and_clears():
    step = advance(State(), WARNING, now=0, for_s=0)
    assert (step.transition, step.state.level) == ("firing", WARNING)
    step = advance(step.state, CRITICAL, now=1, for_s=0)
    assert step.transition == "changed"
    step = advance(step.state, OK, now=2, for_s=0)
    assert (step.transition, step.state) == ("resolved", State())


def test_pending_that_clears_never_fires():
    step = advance(State(), CRITICAL, now=0, for_s=300)
    step = advance(step.state, OK, now=60, for_s=300)
    assert step.transition == "pending_cleared"


def test_replay_finds_firing_intervals():
    times = np.arange(0, 600, 60, dtype=float)
    values = [10, 95, 96, 97, 50, 10, 99, 99, 99, 99]
    firings = replay(times, values, lambda v, cur: threshold_level(v, Thresholds("gt", 90, None, None), cur), 60)
    assert [(f.start, f.end, f.peak) for f in firings] == [(120, 240, 97), (420, None, 99)]


def test_window_aggregates_match_the_plain_aggregate():
    ts = np.arange(0, 3600, 15, dtype=float)
    values = np.sin(ts / 300) * 10
    times = np.array([300.0, 1200.0, 3599.0])
    for how in ("avg", "min", "max", "last", "p95", "rate"):
        got = window_aggregates(ts, values, times, 300, how)
        for t, value in zip(times, got, strict=True):
            inside = (ts >= t - 300) & (ts <= t)
            assert value == pytest.approx(aggregate(ts[inside], values[inside], how)), how
