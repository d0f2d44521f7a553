"""Shrunk counterexamples found by the paging state machine (tests/paging/test_paging_stateful.py),
as ordinary tests. Each names the invariant it broke."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import time_machine

from alerts.models import Incident, MaintenanceWindow
from paging.models import Escalation
from tests.alerts.factories import ingest, rule, service

T0 = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)


def test_an_incident_triggered_during_maintenance_records_why_it_does_not_page(
    team, django_capture_on_commit_callbacks
):
    checkout = service(team)
    rule(team, service=checkout)
    with time_machine.travel(T0, tick=False):
        MaintenanceWindow.objects.create(service=checkout, name="upgrade", starts_at=T0, duration=td(minutes=15))
        with django_capture_on_commit_callbacks(execute=True):
            ingest(team, "cpu", {"host": "a"}, [[int(T0.timestamp()), 95.0]])
    incident = Incident.objects.get()
    assert incident.status == "triggered"
    assert incident.alerts.get().muted == "maintenance"
    latest = Escalation.objects.filter(incident=incident).order_by("-started_at").first()
    assert latest is not None
    assert latest.stop_reason == "every firing alert is in a maintenance window"
    assert latest.state == "paused"
