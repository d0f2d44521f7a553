"""The acceptance proof of the paging loop: random sequences of evaluations, hand actions,
snoozes, silences, maintenance windows, flapping, escalation steps, deliveries, lost tasks,
acknowledgements racing steps and time jumps, with the invariants checked after every step
(tests/alerts/paging_invariants.py). bench/paging_stateful.py runs the same machine longer."""

from __future__ import annotations

import os

import orjson
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.alerts.paging_machine import STATS, STEPS, machine_for, stats_reset
from tests.alerts.paging_world import receiver_start, world_build

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
