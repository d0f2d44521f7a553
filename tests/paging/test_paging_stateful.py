"""The acceptance proof of the paging loop: random sequences of evaluations, hand actions,
snoozes, silences, maintenance windows, flapping, escalation steps, deliveries, lost tasks,
acknowledgements racing steps and time jumps, with the invariants checked after every step
(tests/paging/paging_invariants.py). bench/paging_stateful.py runs the same machine longer."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta as td

import orjson
import pytest
from django.db import connection, connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from alerts.models import Incident
from alerts.services.incidents import incident_acknowledge
from paging.models import Escalation, Notification
from paging.services.escalation import escalations_audit
from tests.alerts.factories import raise_alert
from tests.paging.paging_machine import STATS, STEPS, machine_for, stats_reset
from tests.paging.paging_world import receiver_start, world_build

SEQUENCES = int(os.environ.get("HIVEOPS_PAGING_SEQUENCES", "200"))


@pytest.fixture
def receiver():
    receiver = receiver_start()
    yield receiver
    receiver.stop()


@pytest.fixture
def no_anomaly_detection():
    """Detection on ingest scores points for anomaly rules; none here, and it is slow."""
    from forecasting.receivers import detect_on_ingest
    from metrics.signals import samples_ingested

    samples_ingested.disconnect(detect_on_ingest)
    yield
    samples_ingested.connect(detect_on_ingest)


def test_the_paging_loop_keeps_its_invariants(team, alice, receiver, no_anomaly_detection):
    world = world_build(team=team, person=alice, receiver=receiver)
    stats_reset()
    try:
        run_state_machine_as_test(
            machine_for(world),
            settings=settings(
                max_examples=SEQUENCES,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                print_blob=True,
                suppress_health_check=list(HealthCheck),
            ),
            _min_steps=STEPS,
        )
    finally:
        report = os.environ.get("HIVEOPS_PAGING_REPORT")  # bench/paging_stateful.py reads it
        if report:
            with open(report, "wb") as out:
                out.write(orjson.dumps(STATS))
    assert STATS["sequences"] >= SEQUENCES
    assert STATS["min_steps"] >= STEPS


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_an_acknowledgement_racing_a_send_commits_after_it_and_stops_the_rest(team, alice, receiver):
    """Invariant (d) under real concurrency (separate connections): a send that began before the
    acknowledgement commits may finish, and the acknowledgement waits for it (the delivery holds
    the incident row); nothing is sent after the acknowledgement commits."""
    world_build(team=team, person=alice, receiver=receiver)
    receiver.hold = threading.Event()
    acked: dict[str, int] = {}

    def page() -> None:  # the alert's commit starts paging; level 1 is sent at once, and held
        try:
            raise_alert(team)
        finally:
            connections.close_all()

    def acknowledge() -> None:
        try:
            incident_acknowledge(incident=Incident.objects.get(), by=alice)
            acked["messages"] = len(receiver.receipts)
        finally:
            connections.close_all()

    pager = threading.Thread(target=page)
    pager.start()
    assert receiver.arrived.wait(timeout=20)
    person = threading.Thread(target=acknowledge)
    person.start()
    deadline = time.monotonic() + 10
    while not _waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _waiting_on_a_lock()  # the acknowledgement waits for the delivery's transaction
    receiver.hold.set()
    pager.join(timeout=30)
    person.join(timeout=30)
    incident = Incident.objects.get()
    assert incident.status == "acknowledged"
    assert acked["messages"] == 1  # the send in progress finished before the acknowledgement committed
    escalations_audit(now=timezone.now() + td(minutes=30))
    assert [r.path for r in receiver.receipts] == ["/push"]
    sent = Notification.objects.get(status="sent")
    assert sent.sent_at <= incident.acknowledged_at
    assert Escalation.objects.get().state == "stopped"
    assert not Notification.objects.filter(status__in=["pending", "retrying", "sending"]).exists()
