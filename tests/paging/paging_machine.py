"""A Hypothesis state machine that drives the real paging services (rule evaluation, alert and
incident actions, snooze, silences, maintenance windows, housekeeping, the escalation auditor,
the delivery worker) against the real PostgreSQL and a real webhook receiver, and checks the
invariants of tests/paging/paging_invariants.py after every step.

How the world runs:
- Each sequence runs in a savepoint that is rolled back at its end; the clock is frozen
  (time_machine) at T0 and moves only by the machine: one second before every step (so every
  step has its own timestamps) and by the `time_jump` step.
- Celery is eager in tests, so "enqueue" means "run now". Tasks are only enqueued from
  `transaction.on_commit` callbacks, and the machine holds those callbacks in a queue (the
  broker) instead of running them at once. A live worker runs everything queued between two
  steps; `worker_stalls` stops it (tasks pile up, a person can act between a step and its
  deliveries), `worker_takes_some` runs a few, `worker_resumes` restarts it, and `lose_tasks`
  drops the queue (a Redis restart; the auditor must catch up). Live console events
  (`alerts.events`) are dropped: they only feed browsers.
- Actions a state refuses (AlertError, IncidentError, SnoozeError) are part of the game: the
  machine tries them anyway and goes on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import time_machine
from django.db import DatabaseError, transaction
from django.db.models.signals import post_save
from django.db.transaction import TransactionManagementError
from django.test import TestCase
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from alerts.models import Alert, Incident, MaintenanceWindow, Silence
from alerts.services import housekeeping
from alerts.services.alerts import AlertError, alert_acknowledge, alert_reopen, alert_resolve, alert_unacknowledge
from alerts.services.incidents import IncidentError, incident_acknowledge, incident_resolve
from alerts.services.muting import silence_create, silence_expire
from alerts.services.rules import rule_evaluate
from alerts.services.snooze import CHOICES, SnoozeError, alert_snooze, alert_unsnooze, incident_snooze
from metrics.services import series_cache
from paging.models import Escalation, Notification
from paging.services.delivery import notification_deliver
from paging.services.escalation import escalation_step, escalations_audit
from tests.alerts.factories import ingest
from tests.paging.paging_invariants import Ledger, marks_update, violations
from tests.paging.paging_world import BREACH, CLEAR, HOSTS, World

# Midnight UTC today: the sample partitions of today and the next days exist (tests/conftest.py).
T0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
MAX_ADVANCE = td(hours=40)  # stays inside the partitions created ahead
REFUSED = (AlertError, IncidentError, SnoozeError)
JUMPS = [td(seconds=10), td(minutes=1), td(minutes=2), td(minutes=5), td(minutes=6), td(minutes=31), td(hours=1)]
JUMPS += [td(hours=4, minutes=1), td(hours=24, minutes=1)]
HOST = st.sampled_from(HOSTS)
DISPATCH_UID = "paging-state-machine"

STEPS = 30  # per sequence
STATS: dict = {}


def stats_reset() -> None:
    STATS.update(sequences=0, steps=0, min_steps=None, abandoned=0)
    STATS.update(messages_received=0, escalations=0, escalations_stopped_or_paused=0, notifications=0)
    STATS.update(notifications_sent=0)


def _is_live_event(callback) -> bool:
    return getattr(callback, "__qualname__", "").startswith(("alert_changed.", "incident_changed."))


class PagingMachine(RuleBasedStateMachine):
    world: World  # set on the subclass made by `machine_for`

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0
        self.broker: list = []
        self.stalled = False  # the worker is not taking tasks (busy, restarting)
        self.ledger = Ledger()
        post_save.connect(self._escalation_saved, sender=Escalation, dispatch_uid=DISPATCH_UID, weak=False)
        self.world.receiver.reset()
        series_cache.clear()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._travel = time_machine.travel(T0, tick=False)
        self._clock = self._travel.start()
        self.now = T0

    def _escalation_saved(self, sender, instance: Escalation, **kwargs) -> None:
        if instance.state in (Escalation.State.STOPPED, Escalation.State.PAUSED):
            self.ledger.ended_in_call.add(instance.pk)

    def teardown(self) -> None:
        post_save.disconnect(sender=Escalation, dispatch_uid=DISPATCH_UID)
        try:  # what the sequence did, for the bench's report (none when a step broke the transaction)
            escalations = Escalation.objects.filter(incident__team=self.world.team).count()
            notifications = Notification.objects.filter(incident__team=self.world.team)
            created, sent = notifications.count(), notifications.filter(status="sent").count()
        except (DatabaseError, TransactionManagementError):
            escalations = created = sent = 0
        coverage = {
            "messages_received": len(self.world.receiver.receipts),
            "escalations": escalations,
            "notifications": created,
            "notifications_sent": sent,
            "escalations_stopped_or_paused": len(self.ledger.stop_marks),
        }
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        self._travel.stop()
        series_cache.clear()
        # Hypothesis also starts examples it abandons (out of data while mutating); only whole
        # sequences count.
        if self.steps < STEPS:
            STATS["abandoned"] += 1
            return
        STATS["sequences"] += 1
        STATS["steps"] += self.steps
        for name, count in coverage.items():
            STATS[name] += count
        STATS["min_steps"] = self.steps if STATS["min_steps"] is None else min(STATS["min_steps"], self.steps)

    # -- plumbing -------------------------------------------------------------------------------

    def tick(self, by: td = td(seconds=1)) -> None:
        self.now += by
        self._clock.move_to(self.now)

    def step_begins(self) -> None:
        """Between two steps a live worker runs what was queued (a stalled one does not)."""
        if not self.stalled:
            self.run_worker()
        self.steps += 1
        self.tick()

    def call(self, fn, *args, **kwargs):
        """Run a service call; its on-commit tasks go to the broker. None when it was refused."""
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            try:
                result = fn(*args, **kwargs)
            except REFUSED:
                result = None
        self.broker.extend(cb for cb in callbacks if not _is_live_event(cb))
        marks_update(self.ledger, receipts=len(self.world.receiver.receipts))
        return result

    def run_worker(self, count: int | None = None) -> None:
        """The worker takes queued tasks in order (eager Celery runs each inline)."""
        done = 0
        while self.broker and (count is None or done < count):
            self.call(self.broker.pop(0))
            done += 1

    def alert_of(self, host: str) -> Alert | None:
        return Alert.objects.filter(rule=self.world.rule, labels__host=host).order_by("-id").first()

    def open_incident(self) -> Incident | None:
        return (
            Incident.objects.filter(team=self.world.team)
            .exclude(status=Incident.Status.RESOLVED)
            .order_by("-id")
            .first()
        )

    def sample(self, host: str, value: float) -> None:
        """Ingest one sample; ingest evaluates the rule for the series (eager task)."""
        self.call(ingest, self.world.team, "cpu", {"host": host}, [[int(self.now.timestamp()), value]])

    # -- steps ----------------------------------------------------------------------------------

    @initialize(host=HOST)
    def first_breach(self, host: str) -> None:
        """Every sequence starts paging: a breach fires an alert, opens an incident, starts an episode."""
        self.step_begins()
        self.sample(host, BREACH)

    @rule(host=HOST, breach=st.sampled_from([True, True, False]))
    def evaluation(self, host: str, breach: bool) -> None:
        self.step_begins()
        self.sample(host, BREACH if breach else CLEAR)

    @rule(host=HOST, breach=st.sampled_from([True, True, False]))
    def evaluation_again(self, host: str, breach: bool) -> None:
        self.evaluation(host, breach)

    @rule()
    def periodic_evaluation(self) -> None:
        self.step_begins()
        self.call(rule_evaluate, rule=self.world.rule)

    @rule(host=HOST, flips=st.integers(min_value=3, max_value=5))
    def flapping(self, host: str, flips: int) -> None:
        self.step_begins()
        for i in range(flips):
            self.tick(td(seconds=20))
            self.sample(host, BREACH if i % 2 == 0 else CLEAR)

    @rule(host=HOST, action=st.sampled_from(["acknowledge", "unacknowledge", "resolve", "reopen"]))
    def alert_by_hand(self, host: str, action: str) -> None:
        self.step_begins()
        alert = self.alert_of(host)
        if alert is None:
            return
        person = self.world.person
        if action == "resolve":
            if alert.status != Alert.Status.RESOLVED and self.call(alert_resolve, alert=alert, by=person) is not None:
                self.ledger.resolved_by_hand[host] = self.now
            return
        fn = {"acknowledge": alert_acknowledge, "unacknowledge": alert_unacknowledge, "reopen": alert_reopen}[action]
        self.call(fn, alert=alert, by=person)

    @rule(action=st.sampled_from(["acknowledge", "resolve"]))
    def incident_by_hand(self, action: str) -> None:
        self.step_begins()
        incident = self.open_incident()
        if incident is None:
            return
        if action == "acknowledge":
            self.call(incident_acknowledge, incident=incident, by=self.world.person)
            return
        hosts = [a.labels.get("host") for a in incident.alerts.filter(status__in=["firing", "acknowledged"])]
        if self.call(incident_resolve, incident=incident, by=self.world.person, note="fixed") is not None:
            for host in hosts:
                self.ledger.resolved_by_hand[host] = self.now

    @rule(what=st.sampled_from([*HOSTS, "incident"]), duration=st.sampled_from(sorted(CHOICES)))
    def snooze(self, what: str, duration: str) -> None:
        self.step_begins()
        person = self.world.person
        if what == "incident":
            incident = self.open_incident()
            if incident is not None:
                self.call(incident_snooze, incident=incident, by=person, duration=duration, now=self.now)
            return
        alert = self.alert_of(what)
        if alert is not None:
            self.call(alert_snooze, alert=alert, by=person, duration=duration, now=self.now)

    @rule(host=HOST)
    def unsnooze(self, host: str) -> None:
        self.step_begins()
        alert = self.alert_of(host)
        if alert is not None:
            self.call(alert_unsnooze, alert=alert, by=self.world.person, now=self.now)

    @rule(matcher=st.sampled_from(["host=a", "host=b", "alertname"]), minutes=st.sampled_from([5, 30, 120]))
    def silence_starts(self, matcher: str, minutes: int) -> None:
        self.step_begins()
        name, value = matcher.split("=") if "=" in matcher else ("alertname", self.world.rule.name)
        matchers = [{"name": name, "op": "=", "value": value}]
        ends_at = self.now + td(minutes=minutes)
        self.call(silence_create, team=self.world.team, matchers=matchers, ends_at=ends_at, comment="stateful test")

    @rule()
    def silence_ends(self) -> None:
        self.step_begins()
        silence = Silence.objects.filter(team=self.world.team, expired_at=None).order_by("id").first()
        if silence is not None:
            self.call(silence_expire, silence=silence)

    @rule(starts_in=st.sampled_from([0, 10]), minutes=st.sampled_from([15, 60]))
    def maintenance_planned(self, starts_in: int, minutes: int) -> None:
        """A window starts now or later; the housekeeping run mutes and unmutes with it."""
        self.step_begins()
        MaintenanceWindow.objects.create(
            service=self.world.service,
            name="stateful",
            starts_at=self.now + td(minutes=starts_in),
            duration=td(minutes=minutes),
        )

    @rule()
    def maintenance_ended_early(self) -> None:
        self.step_begins()
        for window in MaintenanceWindow.objects.filter(service=self.world.service, starts_at__lte=self.now):
            if window.starts_at + window.duration > self.now:
                window.duration = self.now - window.starts_at
                window.save(update_fields=["duration"])

    @rule()
    def housekeeping_run(self) -> None:
        self.step_begins()
        self.call(housekeeping.run, now=self.now)

    @rule()
    def auditor(self) -> None:
        self.step_begins()
        self.call(escalations_audit, now=self.now)

    @rule()
    def worker_stalls(self) -> None:
        self.step_begins()
        self.stalled = True

    @rule()
    def worker_resumes(self) -> None:
        self.stalled = False
        self.step_begins()

    @rule(count=st.integers(min_value=1, max_value=8))
    def worker_takes_some(self, count: int) -> None:
        self.step_begins()
        self.run_worker(count)

    @rule()
    def lose_tasks(self) -> None:
        self.step_begins()
        self.broker.clear()

    @rule()
    def deliver_twice(self) -> None:
        """Two workers got the same delivery task (a re-enqueue by the auditor, a redelivery)."""
        self.step_begins()
        for pk in Notification.objects.filter(
            incident__team=self.world.team, status__in=["pending", "retrying"]
        ).values_list("pk", flat=True):
            self.call(notification_deliver, notification_id=pk, now=self.now)
            self.call(notification_deliver, notification_id=pk, now=self.now)

    @rule(action=st.sampled_from(["acknowledge", "resolve"]))
    def acknowledgement_races_a_step(self, action: str) -> None:
        """A step creates a level's notifications; before the worker delivers them, a person
        acknowledges (or resolves) the incident; then the worker runs the queued deliveries."""
        self.step_begins()
        escalation = Escalation.objects.filter(incident__team=self.world.team, state="active").first()
        if escalation is None:
            return
        if escalation.next_step_at > self.now and escalation.next_step_at - T0 <= MAX_ADVANCE:
            self.tick(escalation.next_step_at - self.now)
        self.call(escalation_step, escalation_id=escalation.pk, fence=str(escalation.fence), now=self.now)
        incident = Incident.objects.get(pk=escalation.incident_id)
        if action == "acknowledge":
            self.call(incident_acknowledge, incident=incident, by=self.world.person)
        else:
            hosts = [a.labels.get("host") for a in incident.alerts.filter(status__in=["firing", "acknowledged"])]
            if self.call(incident_resolve, incident=incident, by=self.world.person, note="race") is not None:
                for host in hosts:
                    self.ledger.resolved_by_hand[host] = self.now
        self.run_worker()

    @rule(status=st.sampled_from([503, 410]))
    def receiver_refuses_next(self, status: int) -> None:
        self.step_begins()
        self.world.receiver.fail_next.append(status)

    @rule(jump=st.sampled_from(JUMPS))
    def time_jump(self, jump: td) -> None:
        self.step_begins()
        if self.now + jump - T0 <= MAX_ADVANCE:
            self.tick(jump)

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def paging_invariants_hold(self) -> None:
        found = violations(self.ledger, world=self.world)
        assert not found, "\n".join(found)


def machine_for(world: World) -> type[PagingMachine]:
    return type("PagingLoop", (PagingMachine,), {"world": world})
