"""Fixtures of the executive dashboard tests: the hand-computed world described in test_kpis.py."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
import time_machine

from alerts.models import Incident
from slo.models import SLOHour
from tests.alerts.factories import service
from tests.slo.slo_factories import sla, slo

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def incident(team, key, *, svc=None, priority=3, opened, ack=None, resolved=None) -> Incident:
    return Incident.objects.create(
        team=team,
        service=svc,
        group_key=key,
        title=f"incident {key}",
        status="resolved" if resolved else "acknowledged" if ack else "triggered",
        priority=priority,
        opened_at=opened,
        acknowledged_at=opened + td(minutes=ack) if ack else None,
        resolved_at=opened + td(minutes=resolved) if resolved else None,
        time_to_acknowledge=td(minutes=ack) if ack else None,
        time_to_resolve=td(minutes=resolved) if resolved else None,
    )


def record_hours(slo_obj, start: datetime, end: datetime, good_per_minute: float) -> None:
    hours = []
    hour = start
    while hour < end:
        hours.append(
            SLOHour(
                slo=slo_obj,
                hour=hour,
                good=[good_per_minute] * 60,
                total=[10.0] * 60,
                good_sum=good_per_minute * 60,
                total_sum=600.0,
                observed=60,
            )
        )
        hour += td(hours=1)
    SLOHour.objects.bulk_create(hours)


@pytest.fixture
def world(team, other_team):
    checkout = service(team, "checkout", revenue_per_minute="100.00")
    search = service(team, "search", revenue_per_minute="10.00")
    incident(team, "A", svc=checkout, priority=1, opened=at(30, 10), ack=10, resolved=60)
    incident(team, "B", svc=search, priority=3, opened=at(25, 8), ack=30, resolved=120)
    incident(team, "C", svc=checkout, priority=2, opened=at(24, 11), ack=20, resolved=120)
    incident(team, "D", priority=4, opened=at(31, 11))
    theirs = service(other_team, "checkout", revenue_per_minute="5000.00")
    incident(other_team, "X", svc=theirs, priority=1, opened=at(30, 9), ack=5, resolved=600)
    objective = slo(team, name="Checkout availability", service=checkout, objective=99.0)
    record_hours(objective, at(17, 12), at(24, 12), 10.0)
    record_hours(objective, at(24, 12), at(31, 12), 9.95)
    sla(team, objective, customer="ACME", target=99.9)
    return checkout


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield
