"""The alert-quality maths on hand-made facts (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

from recommendations.quality import calculations as calc

MONDAY = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, noon UTC


def test_rates_medians_and_pages():
    alerts = [
        # resolved on its own after 2 minutes, flapped
        calc.AlertFacts(fired_at=MONDAY, resolved_at=MONDAY + td(minutes=2), flapping=True),
        # acknowledged after 4 minutes and resolved by a person after 30
        calc.AlertFacts(
            fired_at=MONDAY,
            acknowledged_at=MONDAY + td(minutes=4),
            resolved_at=MONDAY + td(minutes=30),
            human=True,
        ),
        # resolved on its own after 10 minutes, seen twice
        calc.AlertFacts(fired_at=MONDAY, resolved_at=MONDAY + td(minutes=10), duplicate=True),
        # still open
        calc.AlertFacts(fired_at=MONDAY),
    ]
    pages = [
        calc.Page(at=MONDAY, timezone="UTC"),  # working hours
        calc.Page(at=MONDAY.replace(hour=23), timezone="UTC"),  # off-hours and sleep
        calc.Page(at=MONDAY.replace(hour=19), timezone="Europe/Paris"),  # 20:00 in Paris: off-hours only
        calc.Page(at=MONDAY.replace(hour=3), timezone="America/New_York"),  # 22:00 Sunday in New York: both
        calc.Page(at=MONDAY.replace(hour=23), timezone=None),  # to a channel: no responder
    ]
    q = calc.quality_of(alerts, pages, days=14, shifts=2)
    assert q.alerts == 4
    assert q.per_week == 2.0
    assert q.auto_resolved == 0.5
    assert q.flap_rate == 0.25
    assert q.duplicate_rate == 0.25
    assert q.acknowledged == 1
    assert q.median_ack_s == 240.0
    assert q.median_resolve_s == 600.0  # median of 2, 30 and 10 minutes
    assert q.pages == 5
    assert q.pages_per_shift == 2.5
    assert q.off_hours_pages == 3
    assert q.sleep_pages == 2
    assert q.noise == 1.0  # 2 per week × 0.5


def test_empty_groups_have_no_rates():
    q = calc.quality_of([], [], days=7)
    assert (q.alerts, q.auto_resolved, q.median_ack_s, q.pages_per_shift, q.noise) == (0, None, None, None, 0.0)


def test_off_hours_and_sleep_boundaries():
    saturday_noon = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    assert calc.off_hours(saturday_noon)
    assert not calc.sleep_hours(saturday_noon)
    assert not calc.off_hours(MONDAY.replace(hour=8))
    assert calc.off_hours(MONDAY.replace(hour=18))
    assert calc.sleep_hours(MONDAY.replace(hour=22))
    assert calc.sleep_hours(MONDAY.replace(hour=6, minute=59))
    assert not calc.sleep_hours(MONDAY.replace(hour=7))
    assert calc.zone("Not/AZone").key == "UTC"


def test_raised_threshold_moves_past_most_spikes():
    peaks = [91.0, 92.0, 93.0, 94.0, 95.0, 96.0, 97.0, 98.0, 99.0, 100.0]
    assert calc.raised_threshold(peaks, current=90, higher_is_worse=True) == 99.1
    assert calc.raised_threshold([], current=90, higher_is_worse=True) is None
    assert calc.raised_threshold([85.0], current=90, higher_is_worse=True) is None
    assert calc.raised_threshold([5.0, 8.0], current=10, higher_is_worse=False) == 5.3


def test_choose_prefers_delete_then_the_biggest_cut_then_the_gentlest():
    f5, f10 = calc.Candidate("for", 5, 3), calc.Candidate("for", 10, 3)
    raise_to = calc.Candidate("threshold", 99, 4)
    assert calc.choose(10, [f5, f10, raise_to]) is f5
    assert calc.choose(3, [f5, f10]) is None  # nothing fires less
    delete = calc.Candidate("delete", None, 0)
    assert calc.choose(10, [delete, f5]) is delete
    assert calc.may_delete(auto_resolved=0.95, acknowledged=0)
    assert not calc.may_delete(auto_resolved=0.95, acknowledged=1)
    assert not calc.may_delete(auto_resolved=0.8, acknowledged=0)
    assert f5.label == "add `for` of 5 minutes"
    assert raise_to.label == "raise the threshold to 99"
