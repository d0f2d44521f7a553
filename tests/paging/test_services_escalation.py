"""Escalation timelines with frozen time: exactly the expected deliveries, none after an ack."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time
from datetime import timedelta as td

import pytest
import time_machine
from django.db import connections, transaction

from alerts.models import Incident
from alerts.services.incidents import incident_acknowledge, incident_resolve
from paging.models import (
    ContactMethod,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationRoute,
    Notification,
    NotificationChannel,
    NotificationRule,
    OnCallRotation,
    RotationMember,
)
from paging.services.escalation import escalations_audit
from tests.alerts.factories import raise_alert

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def webhook_channel(team, http_peer):
    return NotificationChannel.objects.create(team=team, kind="webhook", name="ops hook", config={"url": http_peer.url})


@pytest.fixture
def policy(team, alice, webhook_channel):
    alice.email = "alice@example.com"
    alice.save()
    policy = EscalationPolicy.objects.create(team=team, name="default", repeat=1)
    first = EscalationLevel.objects.create(policy=policy, position=1, wait=td(minutes=5))
    first.users.add(alice)
    second = EscalationLevel.objects.create(policy=policy, position=2, wait=td(minutes=5))
    second.channels.add(webhook_channel)
    EscalationRoute.objects.create(team=team, policy=policy, is_default=True)
    return policy


def deliveries() -> list[tuple[int, str, str]]:
    return list(
        Notification.objects.filter(status="sent").order_by("sent_at", "id").values_list("level", "kind", "target")
    )


def start(team, django_capture_on_commit_callbacks) -> Incident:
    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_alert(team)
    return alert.incident


def test_levels_repeat_and_stop_at_acknowledgement(
    team, alice, policy, smtp_peer, http_peer, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False) as clock:
        incident = start(team, django_capture_on_commit_callbacks)
        assert deliveries() == [(0, "email", "alice@example.com")]  # L1 at +0
        assert smtp_peer.messages[0].rcpt_tos == ["alice@example.com"]
        clock.move_to(T0 + td(minutes=5))
        with django_capture_on_commit_callbacks(execute=True):
            escalations_audit()
        assert deliveries()[-1] == (1, "webhook", "ops hook")  # L2 at +5
        assert http_peer.received[0].json()["incident"]["id"] == str(incident.uid)
        clock.move_to(T0 + td(minutes=7))
        with django_capture_on_commit_callbacks(execute=True):
            incident_acknowledge(incident=incident, by=alice)
        for minutes in (10, 15, 20, 30, 60):
            clock.move_to(T0 + td(minutes=minutes))
            with django_capture_on_commit_callbacks(execute=True):
                escalations_audit()
        assert deliveries() == [(0, "email", "alice@example.com"), (1, "webhook", "ops hook")]
        escalation = Escalation.objects.get()
        assert (escalation.state, escalation.stop_reason) == ("stopped", "acknowledged by alice")
        assert list(escalation.log.values_list("action", flat=True)) == [
            "started",
            "routed",
            "level_notified",
            "level_notified",
            "stopped",
        ]


def test_without_acknowledgement_the_policy_repeats_then_finishes(
    team, policy, smtp_peer, http_peer, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False) as clock:
        start(team, django_capture_on_commit_callbacks)
        for minutes in range(5, 35, 5):
            clock.move_to(T0 + td(minutes=minutes))
            with django_capture_on_commit_callbacks(execute=True):
                escalations_audit()
        assert [(level, kind) for level, kind, _ in deliveries()] == [
            (0, "email"),
            (1, "webhook"),
            (0, "email"),
            (1, "webhook"),
        ]  # levels, then one repeat
        assert Escalation.objects.get().state == "finished"


def test_resolving_stops_the_escalation(team, alice, policy, smtp_peer, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False) as clock:
        incident = start(team, django_capture_on_commit_callbacks)
        incident_resolve(incident=incident, by=alice, note="")
        clock.move_to(T0 + td(minutes=10))
        escalations_audit()
    assert len(deliveries()) == 1
    assert Escalation.objects.get().state == "stopped"


def test_a_stale_fence_does_nothing(team, policy, smtp_peer, django_capture_on_commit_callbacks):
    from paging.services.escalation import escalation_step

    with time_machine.travel(T0, tick=False) as clock:
        start(team, django_capture_on_commit_callbacks)
        escalation = Escalation.objects.get()
        clock.move_to(T0 + td(minutes=5))
        assert (
            escalation_step(escalation_id=escalation.pk, fence="00000000-0000-0000-0000-000000000000") == "stale fence"
        )
        assert escalation_step(escalation_id=escalation.pk, fence=str(escalation.fence)).startswith("level 2")
        assert escalation_step(escalation_id=escalation.pk, fence=str(escalation.fence)) == "not due"  # a duplicate


def test_personal_rules_and_rotations(team, alice, bob, smtp_peer, http_peer, django_capture_on_commit_callbacks):
    push = ContactMethod.objects.create(user=alice, kind="webhook", address=http_peer.url + "/push")
    mail = ContactMethod.objects.create(user=alice, kind="email", address="alice@phone.example")
    NotificationRule.objects.create(user=alice, urgency="high", position=0, contact_method=push)
    NotificationRule.objects.create(user=alice, urgency="high", position=1, contact_method=mail, delay=td(minutes=2))
    rotation = OnCallRotation.objects.create(
        team=team, name="primary", length="daily", handoff_time=time(9, 0), start_date=T0.date()
    )
    RotationMember.objects.create(rotation=rotation, user=alice, position=0)
    RotationMember.objects.create(rotation=rotation, user=bob, position=1)
    policy = EscalationPolicy.objects.create(team=team, name="on-call")
    EscalationLevel.objects.create(policy=policy, position=1, wait=td(minutes=5), rotation=rotation)
    EscalationRoute.objects.create(team=team, policy=policy, severities=["critical"])
    with time_machine.travel(T0 + td(hours=1), tick=False) as clock:  # day 0: alice is on call
        start(team, django_capture_on_commit_callbacks)
        assert deliveries() == [(0, "webhook", http_peer.url + "/push")]  # P1 = high urgency, push first
        clock.move_to(T0 + td(hours=1, minutes=2))
        with time_machine.travel(T0 + td(hours=1, minutes=3), tick=False):
            from paging.services.delivery import notification_deliver

            pending = Notification.objects.get(status="pending")
            notification_deliver(notification_id=pending.pk)
        assert deliveries()[-1] == (0, "email", "alice@phone.example")


def test_conditional_level_outside_hours_is_skipped(team, alice, smtp_peer, django_capture_on_commit_callbacks):
    alice.email = "alice@example.com"
    alice.save()
    policy = EscalationPolicy.objects.create(team=team, name="business hours")
    level = EscalationLevel.objects.create(
        policy=policy,
        position=1,
        wait=td(minutes=5),
        only_from=time(18, 0),
        only_until=time(8, 0),
        timezone="Europe/Berlin",
    )
    level.users.add(alice)
    EscalationRoute.objects.create(team=team, policy=policy, is_default=True)
    with time_machine.travel(T0, tick=False):  # 10:00 in Berlin: outside the night level
        start(team, django_capture_on_commit_callbacks)
    assert deliveries() == []
    assert Escalation.objects.get().log.filter(action="level_skipped").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_acknowledge_and_step_send_nothing_after_the_ack(team, alice, policy, smtp_peer, http_peer):
    """An acknowledgement racing the L2 step: whatever the order, no delivery is sent after the
    acknowledgement commits, and the escalation ends stopped."""
    from paging.services.delivery import notification_deliver
    from paging.services.escalation import escalation_start, escalation_step

    incident = raise_alert(team).incident
    Escalation.objects.all().delete()  # the on-commit start; this test drives its own escalation
    with transaction.atomic():
        escalation = escalation_start(incident=incident, reason="test", now=T0 - td(minutes=10))
    escalation_step(escalation_id=escalation.pk, fence=str(escalation.fence), now=T0 - td(minutes=10))  # L1
    barrier = threading.Barrier(2)
    acked_at = {}

    def ack():
        barrier.wait()
        incident_acknowledge(incident=Incident.objects.get(pk=incident.pk), by=alice)
        acked_at["t"] = datetime.now(UTC)
        connections.close_all()

    def escalate():
        barrier.wait()
        escalation_step(escalation_id=escalation.pk, fence=str(escalation.fence), now=T0)
        for n in Notification.objects.filter(status="pending"):
            notification_deliver(notification_id=n.pk)
        connections.close_all()

    threads = [threading.Thread(target=ack), threading.Thread(target=escalate)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    late = Notification.objects.filter(status="sent", sent_at__gt=acked_at["t"])
    assert not late.exists()
    assert Escalation.objects.get(pk=escalation.pk).state == "stopped"
    assert not Notification.objects.filter(status__in=["pending", "retrying", "sending"]).exists()


def test_handoff_is_announced_once(team, alice, smtp_peer):
    from paging.services.oncall import handoffs_notify

    alice.email = "alice@example.com"
    alice.save()
    rotation = OnCallRotation.objects.create(
        team=team, name="primary", length="daily", handoff_time=time(9, 0), start_date=T0.date(), notify_handoff=True
    )
    RotationMember.objects.create(rotation=rotation, user=alice)
    with time_machine.travel(T0 + td(minutes=5), tick=False):
        assert handoffs_notify() == 1
        assert handoffs_notify() == 0
    assert "You are on call for primary" in smtp_peer.messages[0].content.decode()


def test_acknowledgement_timeout_restarts_the_escalation(
    team, alice, policy, smtp_peer, django_capture_on_commit_callbacks
):
    from alerts.services import housekeeping

    with time_machine.travel(T0, tick=False) as clock:
        incident = start(team, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            incident_acknowledge(incident=incident, by=alice)
        clock.move_to(T0 + td(minutes=31))  # past the default 30-minute acknowledgement timeout
        with django_capture_on_commit_callbacks(execute=True):
            report = housekeeping.run(now=T0 + td(minutes=31))
    assert report["retriggered"] == 1
    incident.refresh_from_db()
    assert incident.status == "triggered"
    assert list(Escalation.objects.order_by("started_at").values_list("state", flat=True)) == ["stopped", "active"]
    assert len([d for d in deliveries() if d[0] == 0]) == 2  # level 1 again after the timeout


@pytest.mark.django_db(transaction=True)
def test_a_step_waits_for_the_incident_before_it_locks_its_escalation(team, alice, policy, smtp_peer, http_peer):
    """Lock order incident -> escalation (seen as a deadlock under `make run`: a rule evaluation
    held the incident and wanted the escalation, while a step held the escalation and its new
    delivery's foreign key waited for the incident)."""
    from django.db import OperationalError

    from paging.services.escalation import escalation_step

    incident = raise_alert(team).incident  # level 1 runs on commit
    escalation = Escalation.objects.get(incident=incident)
    Escalation.objects.filter(pk=escalation.pk).update(next_step_at=datetime.now(UTC) - td(seconds=1))  # L2 due
    holding, done = threading.Event(), threading.Event()
    seen = {}

    def writer():  # like alert_raise: the incident first, then (later) the escalation
        with transaction.atomic():
            Incident.objects.select_for_update().get(pk=incident.pk)
            holding.set()
            done.wait(0.5)  # the step starts meanwhile (and must not finish before this lock)
            try:
                Escalation.objects.select_for_update(nowait=True).get(pk=escalation.pk)
                seen["escalation_free"] = True
            except OperationalError:
                seen["escalation_free"] = False
        connections.close_all()

    def step():
        holding.wait()
        seen["step"] = escalation_step(escalation_id=escalation.pk, fence=str(escalation.fence))
        done.set()
        connections.close_all()

    threads = [threading.Thread(target=writer), threading.Thread(target=step)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert seen["escalation_free"] is True  # the step had not taken the escalation while waiting
    assert seen["step"].startswith("level 2")
