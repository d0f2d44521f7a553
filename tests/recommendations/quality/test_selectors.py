"""Quality per rule, service and team from a hand-made history, with time frozen."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from datetime import timedelta as td

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.teams.models import Profile
from paging.models import OnCallRotation, RotationMember
from paging.selectors import shift_count
from recommendations.quality.selectors import quality
from tests.alerts.factories import rule, service
from tests.recommendations.quality.factories import alert, event, page

NOW = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)  # a Friday
TUESDAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def history(team, other_team, alice):
    Profile.objects.create(user=alice, timezone="Asia/Tokyo")  # UTC+9
    cpu = rule(team, name="CPU")
    disk = rule(team, name="Disk")
    checkout = service(team)
    spiky = [
        alert(team, at=TUESDAY, rule=cpu, service=checkout, resolve_after=td(minutes=2), flapping=True),
        alert(team, at=TUESDAY, rule=cpu, service=checkout, resolve_after=td(minutes=4)),
        alert(team, at=TUESDAY, rule=cpu, service=checkout, resolve_after=td(minutes=6), occurrences=3),
    ]
    real = alert(
        team, at=TUESDAY, rule=disk, ack_after=td(minutes=5), resolve_after=td(minutes=60), acknowledged_by=alice
    )
    event(real, "acknowledged", by=alice)
    event(spiky[0], "resolved")  # by the system: still "no human action"
    event(spiky[1], "reopened")
    alert(team, at=NOW - td(days=40), rule=cpu)  # outside 30 days
    alert(other_team, at=TUESDAY, resolve_after=td(minutes=1))  # another tenant
    page(team, spiky[:1], at=TUESDAY.replace(hour=14), user=alice)  # 23:00 in Tokyo: off-hours and sleep
    page(team, [real], at=TUESDAY.replace(hour=1), user=alice)  # 10:00 in Tokyo: working hours
    rotation = OnCallRotation.objects.create(
        team=team, name="primary", length="daily", handoff_time=time(9), start_date=date(2026, 3, 1)
    )
    RotationMember.objects.create(rotation=rotation, user=alice)
    return {"cpu": cpu, "disk": disk, "checkout": checkout, "rotation": rotation}


def test_quality_per_rule(team, history):
    with time_machine.travel(NOW, tick=False):
        rows = quality(team_ids=[team.id], days=30, by="rule")
    assert [r.name for r in rows] == ["CPU", "Disk"]  # noisiest first
    cpu, disk = rows[0].quality, rows[1].quality
    assert cpu.alerts == 3
    assert cpu.per_week == pytest.approx(3 / 30 * 7)
    assert cpu.auto_resolved == 1.0
    assert cpu.flap_rate == pytest.approx(1 / 3)
    assert cpu.duplicate_rate == pytest.approx(2 / 3)  # one reopened, one seen three times
    assert cpu.median_resolve_s == 240.0
    assert cpu.median_ack_s is None
    assert (cpu.pages, cpu.off_hours_pages, cpu.sleep_pages) == (1, 1, 1)
    assert cpu.shifts == 13  # daily shifts from 1 March 09:00 to 13 March 12:00 UTC
    assert cpu.pages_per_shift == pytest.approx(1 / 13)
    assert disk.auto_resolved == 0.0
    assert (disk.acknowledged, disk.median_ack_s, disk.median_resolve_s) == (1, 300.0, 3600.0)
    assert (disk.pages, disk.off_hours_pages) == (1, 0)


def test_quality_per_service_and_team(team, other_team, history):
    with time_machine.travel(NOW, tick=False):
        services = {r.name: r.quality for r in quality(team_ids=[team.id], days=7, by="service")}
        teams = quality(team_ids=[team.id, other_team.id], days=7, by="team")
    assert services["Checkout"].alerts == 3
    assert services["(none)"].alerts == 1
    by_team = {r.name: r.quality for r in teams}
    assert by_team["Ops"].alerts == 4
    assert by_team["Ops"].pages == 2
    assert by_team["Other"].alerts == 1


def test_queries_do_not_grow_with_alerts(team, history):
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as few:
        quality(team_ids=[team.id], days=30, by="rule")
    for _ in range(20):
        alert(team, at=TUESDAY, rule=history["cpu"], resolve_after=td(minutes=1))
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as many:
        rows = quality(team_ids=[team.id], days=30, by="rule")
    assert rows[0].quality.alerts == 23
    assert len(many) == len(few) <= 8


def test_shift_count_of_a_weekly_rotation(history):
    rotation = history["rotation"]
    rotation.length = "weekly"
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert shift_count(rotation, start, start + td(days=14)) == 2
    assert shift_count(rotation, start - td(days=30), start) == 0
