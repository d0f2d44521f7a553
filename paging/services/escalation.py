"""Escalations: route an incident to a policy, snapshot it, step it level by level with fenced
Celery tasks, and stop it atomically on acknowledge or resolve."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from alerts.models import Alert, Incident, Severity
from alerts.selectors import paging_wanted
from core.queue import enqueue
from core.teams.models import Membership
from metrics.matchers import matches
from paging.machines import delivery
from paging.machines import escalation as machine
from paging.models import (
    Escalation,
    EscalationPolicy,
    EscalationRoute,
    Notification,
    NotificationChannel,
    NotificationRule,
    OnCallRotation,
)
from paging.selectors import on_call_at
from paging.services.delivery import notification_deliver
from paging.snapshot import LevelSnapshot, PolicySnapshot

logger = logging.getLogger(__name__)
REQUEUE_AFTER = td(seconds=30)
INLINE_DELIVERIES = 3  # a level with at most this many due deliveries sends them in the step's worker


START_EVENTS = ("trigger", "retrigger", "reopen")


ROUTING_CACHE_S = 5.0  # a burst of incidents routes without re-reading routes and policies each time
_routes_cache: dict[int, tuple[float, list[EscalationRoute]]] = {}
_snapshots_cache: dict[int, tuple[float, dict]] = {}


def routing_cache_clear(**kwargs) -> None:
    """Receiver: a route, policy or level changed in this process (other processes: within
    ROUTING_CACHE_S seconds). Running episodes keep their own snapshot either way."""
    _routes_cache.clear()
    _snapshots_cache.clear()


def _team_routes(team_id: int) -> list[EscalationRoute]:
    hit = _routes_cache.get(team_id)
    if hit is not None and time.monotonic() - hit[0] < ROUTING_CACHE_S:
        return hit[1]
    routes = list(EscalationRoute.objects.filter(team_id=team_id).select_related("policy"))
    _routes_cache[team_id] = (time.monotonic(), routes)
    return routes


def policy_snapshot(policy: EscalationPolicy) -> PolicySnapshot:
    hit = _snapshots_cache.get(policy.pk)
    if hit is None or time.monotonic() - hit[0] >= ROUTING_CACHE_S:
        hit = (time.monotonic(), PolicySnapshot.of(policy).dump())
        _snapshots_cache[policy.pk] = hit
    return PolicySnapshot.load(hit[1])  # a copy: round-robin choices are written into it


def route_policy(incident: Incident) -> EscalationPolicy | None:
    """The first route (by position) matching the incident: its service, the severity of its
    worst alert and the labels of its first alert; the team's default route catches the rest."""
    severities = set(incident.alerts.order_by().values_list("severity", flat=True).distinct())
    severity = min(severities, key=Severity.rank, default=Severity.INFO)
    labels = incident.alerts.order_by("first_seen", "id").values_list("labels", flat=True).first() or {}
    for route in _team_routes(incident.team_id):
        if route.is_default:
            return route.policy
        if route.service_id and route.service_id != incident.service_id:
            continue
        if route.severities and severity not in route.severities:
            continue
        if matches(route.matchers, labels):
            return route.policy
    return None


def on_incident_changed(sender, *, incident: Incident, event: str, by=None, channel: str = "", **kwargs) -> None:
    """Receiver of alerts.signals.incident_changed: runs in the incident's transaction."""
    escalation_sync(incident=incident, event=event, by=by, channel=channel)


def escalation_sync(*, incident: Incident, event: str, by=None, channel: str = "", now: datetime | None = None):
    """Make paging match the incident: an episode runs while it is triggered with a firing,
    unmuted alert. Acknowledge and resolve stop it (pending deliveries cancelled, fence renewed);
    muting every firing alert pauses it; trigger, re-trigger, reopen and unmute start a new one."""
    now = now or timezone.now()
    if event in ("acknowledge", "resolve"):
        transaction.on_commit(lambda: enqueue("paging.tasks.forward_incident_state", incident.pk, event))
    wanted, why_not = paging_wanted(incident)
    active = Escalation.objects.select_for_update().filter(incident=incident, state=Escalation.State.ACTIVE).first()
    latest = active or Escalation.objects.filter(incident=incident).order_by("-started_at", "-id").first()
    if not wanted:
        if active is not None:
            if event == "acknowledge":
                who = by.get_username() if by is not None else "an integration"
                why_not = f"acknowledged by {who}" + (f" via {channel}" if channel else "")
            _end(incident, active, "pause" if incident.status == Incident.Status.TRIGGERED else "stop", why_not, now)
        elif incident.status == Incident.Status.TRIGGERED and (
            latest is None or (event in START_EVENTS and latest.state != Escalation.State.PAUSED)
        ):
            _record_muted_trigger(incident, why_not, now)  # e.g. a breach inside a maintenance window
        return None
    if active is not None:
        return active
    # A finished or unrouted episode stays done until the next trigger; a paused one (muted) or one
    # stopped by an acknowledgement whose re-trigger came while muted resumes as a new episode.
    if event in START_EVENTS or latest is None or latest.state in (Escalation.State.PAUSED, Escalation.State.STOPPED):
        reasons = {"trigger": "incident triggered", "retrigger": "an alert fired again", "reopen": "incident reopened"}
        return escalation_begin(incident=incident, reason=reasons.get(event, "an alert is firing unmuted"), now=now)
    return None


def escalation_begin(*, incident: Incident, reason: str, now: datetime | None = None) -> Escalation:
    """Start a paging episode. Cheap, inside the caller's transaction: routing, the snapshot and
    the first level's notifications happen in the first step, run by a worker."""
    now = now or timezone.now()
    escalation = Escalation.objects.create(incident=incident, snapshot={}, next_step_at=now, started_at=now)
    machine.log(escalation, "started", reason)
    _schedule(escalation)
    return escalation


def _record_muted_trigger(incident: Incident, reason: str, now: datetime) -> None:
    """A trigger that finds every firing alert muted still gets its episode, paused from the
    start with the reason, so the incident says why nobody is paged (and unmuting resumes it)."""
    escalation = Escalation.objects.create(incident=incident, snapshot={}, next_step_at=now, started_at=now)
    machine.log(escalation, "started", "incident triggered")
    machine.apply(escalation, "pause", reason=reason, at=now)


def escalation_start(*, incident: Incident, reason: str, now: datetime | None = None) -> Escalation | None:
    """Start a new episode now (ending a running one); None when no route matches."""
    escalation_stop(incident=incident, reason=f"restarted: {reason}", cancel_pending=False)
    if route_policy(incident) is None:
        return None
    return escalation_begin(incident=incident, reason=reason, now=now)


def _end(incident: Incident, escalation: Escalation, event: str, reason: str, now: datetime) -> None:
    machine.apply(escalation, event, reason=reason, at=now)
    delivery.cancel_open(Notification.objects.filter(incident=incident), reason=reason)


def escalation_stop(*, incident: Incident, reason: str, cancel_pending: bool = True) -> int:
    """Stop the incident's escalation at once: a new fence makes every queued step a no-op, and
    deliveries not yet sent are cancelled in the same transaction."""
    now = timezone.now()
    stopped = 0
    for escalation in Escalation.objects.select_for_update().filter(incident=incident, state=Escalation.State.ACTIVE):
        machine.apply(escalation, "stop", reason=reason, at=now)
        stopped += 1
    if cancel_pending:
        delivery.cancel_open(Notification.objects.filter(incident=incident), reason=reason)
    return stopped


def _schedule(escalation: Escalation) -> None:
    args, eta = (escalation.pk, str(escalation.fence)), escalation.next_step_at
    transaction.on_commit(lambda: enqueue("paging.tasks.escalation_step", *args, eta=eta))


def _level_applies(level: LevelSnapshot, incident: Incident, now: datetime) -> str | None:
    """None when the level applies now, else why it is skipped."""
    local = now.astimezone(ZoneInfo(level.timezone or "UTC"))
    if level.only_days and local.weekday() not in level.only_days:
        return "not on this weekday"
    start, end = level.only_from, level.only_until
    if start and end:
        t = local.time().isoformat()
        inside = start <= t < end if start <= end else (t >= start or t < end)
        if not inside:
            return f"outside {start}–{end} {level.timezone}"
    if level.min_alerts:
        since = now - td(seconds=level.min_alerts_window_s or 3600)
        count = Alert.objects.filter(team_id=incident.team_id, first_seen__gte=since).count()
        if count <= level.min_alerts:
            return f"only {count} alert(s) in the window (needs more than {level.min_alerts})"
    return None


def _level_targets(
    snapshot: PolicySnapshot, escalation: Escalation, index: int, now: datetime
) -> tuple[list[int], list[int]]:
    """(user ids, channel ids) for a level, applying round-robin across escalations."""
    level = snapshot.levels[index]
    users = list(level.users)
    if level.teams:
        users += list(Membership.objects.filter(team_id__in=level.teams).values_list("user_id", flat=True))
    if level.rotation:
        rotation = OnCallRotation.objects.filter(pk=level.rotation).first()
        shift = on_call_at(rotation=rotation, at=now) if rotation else None
        if shift is not None:
            users.append(shift.user_id)
        else:
            machine.log(escalation, "coverage_gap", f"nobody on call in rotation {level.rotation}", index)
    users = list(dict.fromkeys(users))
    channels = list(level.channels)
    if level.strategy == "round_robin" and (users or channels):
        targets = [("u", u) for u in users] + [("c", c) for c in channels]
        # The n-th escalation of this policy goes to the n-th target, so load spreads evenly.
        turn = Escalation.objects.filter(policy_id=escalation.policy_id, started_at__lt=escalation.started_at).count()
        kind, target = targets[turn % len(targets)]
        snapshot.round_robin[str(index)] = f"{kind}{target}"
        return ([target], []) if kind == "u" else ([], [target])
    return users, channels


def _notify_level(escalation: Escalation, snapshot: PolicySnapshot, index: int, now: datetime) -> list[Notification]:
    incident = escalation.incident
    users, channels = _level_targets(snapshot, escalation, index, now)
    urgency = "high" if incident.effective_priority <= 2 else "low"
    base = f"{escalation.pk}:{escalation.cycle}:{index}"
    created: list[Notification] = []
    unreachable: list[str] = []

    def add(kind, target, dedup, **kw) -> None:
        # The step's lock and fence make this level run once; the unique dedup key guards it anyway.
        fields = {"incident": incident, "escalation": escalation, "kind": kind, "target": target[:500], "level": index}
        created.append(Notification(dedup_key=dedup, **fields, **kw))

    for user in get_user_model().objects.filter(pk__in=users):
        if not user.is_active:
            unreachable.append(f"{user.get_username()} is deactivated")
            continue
        rules = list(NotificationRule.objects.filter(user=user, urgency=urgency).select_related("contact_method"))
        if not rules and user.email:
            add("email", user.email, f"{base}:u{user.pk}:default", user=user)
        for rule in rules:
            method = rule.contact_method
            add(method.kind, method.address, f"{base}:u{user.pk}:r{rule.pk}", user=user, not_before=now + rule.delay)
        if not rules and not user.email:
            unreachable.append(f"{user.get_username()} has no contact method")
            machine.log(escalation, "unreachable", f"{user} has no notification rules and no email", index)
    for channel in NotificationChannel.objects.filter(pk__in=channels):
        add(channel.kind, channel.name, f"{base}:c{channel.pk}", channel=channel)
    created = Notification.objects.bulk_create(created)  # one INSERT for the level
    if not created:
        who = "; ".join(unreachable) or "the level has no targets"
        machine.log(escalation, "nobody_reachable", f"nobody reachable at level {index + 1}: {who}", index)
    return created


def _route(escalation: Escalation) -> PolicySnapshot | None:
    """Route the episode at its first step; None (and the episode ends) when no route matches."""
    policy = route_policy(escalation.incident)
    if policy is None:
        machine.apply(escalation, "unroute", reason="no route matches")
        return None
    snapshot = policy_snapshot(policy)
    escalation.policy, escalation.snapshot = policy, snapshot.dump()
    machine.log(escalation, "routed", f"policy {policy.name}: {len(snapshot.levels)} level(s)")
    return snapshot


def escalation_step(*, escalation_id: int, fence: str, now: datetime | None = None) -> str:
    """Run the due level of an escalation. Fenced: a task carrying an old fence does nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock order everywhere: incident, then alert, then escalation (the incident's writers hold
        # the incident while they sync paging; this step's deliveries reference the incident).
        incident_id = Escalation.objects.filter(pk=escalation_id).values_list("incident_id", flat=True).first()
        list(Incident.objects.select_for_update(no_key=True).filter(pk=incident_id).values_list("pk", flat=True))
        escalation = (
            Escalation.objects.select_for_update(of=("self",))
            .select_related("incident")
            .filter(pk=escalation_id)
            .first()
        )
        if escalation is None or str(escalation.fence) != fence:
            return "stale fence"
        if escalation.state != Escalation.State.ACTIVE:
            return f"escalation {escalation.state}"
        if now < escalation.next_step_at:
            return "not due"
        if escalation.incident.status != Incident.Status.TRIGGERED:
            escalation_stop(incident=escalation.incident, reason=f"incident {escalation.incident.status}")
            return "incident no longer triggered"
        snapshot = PolicySnapshot.load(escalation.snapshot) if escalation.snapshot else _route(escalation)
        if snapshot is None:
            return "no route matches"
        result, created = _run_level(escalation, snapshot, now)
        inline = len(created) <= INLINE_DELIVERIES
        for notification in created:
            pk, eta = notification.pk, notification.not_before
            transaction.on_commit(lambda pk=pk, eta=eta: _deliver_after_commit(pk, eta, inline=inline))
    return result


def _run_level(escalation: Escalation, snapshot: PolicySnapshot, now: datetime) -> tuple[str, list[Notification]]:
    levels = snapshot.levels
    if escalation.next_level >= len(levels):
        if escalation.cycle >= snapshot.repeat or not levels:
            escalation.save()
            machine.apply(escalation, "finish", reason="all levels and repeats done", at=now)
            return "finished", []
        escalation.cycle += 1
        escalation.next_level = min(snapshot.repeat_from, len(levels) - 1)
        machine.log(escalation, "repeat", f"repeat {escalation.cycle} of {snapshot.repeat}")
    index = escalation.next_level
    skipped = _level_applies(levels[index], escalation.incident, now)
    if skipped:
        machine.log(escalation, "level_skipped", skipped, index)
        created, wait = [], td(0)
    else:
        created = _notify_level(escalation, snapshot, index, now)
        machine.log(escalation, "level_notified", f"{len(created)} notification(s)", index)
        wait = td(seconds=levels[index].wait_s)
    escalation.next_level += 1
    escalation.next_step_at = now + wait
    escalation.snapshot = snapshot.dump()
    escalation.save()
    _schedule(escalation)
    return f"level {index + 1}: {len(created)} notification(s)", created


def _deliver_after_commit(pk: int, eta: datetime, *, inline: bool) -> None:
    """Send a due delivery of a small level right here, in the worker that ran the step (a burst of
    incidents reaches people sooner without a second task hop); queue the rest."""
    if eta > timezone.now() or not inline:
        enqueue("paging.tasks.deliver_notification", pk, eta=eta if eta > timezone.now() else None)
        return
    try:
        notification_deliver(notification_id=pk)
    except Exception:  # the claim holds it; the auditor puts a stranded delivery back in the queue
        logger.exception("inline delivery %s failed; queued instead", pk)
        enqueue("paging.tasks.deliver_notification", pk)


def escalations_audit(*, now: datetime | None = None) -> dict:
    """Step every due escalation and resend due deliveries. Escalations overdue by more than
    HIVEOPS_STUCK_AFTER_SECONDS are reported: their tasks were lost (a worker died, or Redis restarted).
    Triggered incidents that never got an episode (a lost commit hook) get one."""
    now = now or timezone.now()
    stuck_after = td(seconds=settings.HIVEOPS_STUCK_AFTER_SECONDS)
    due = list(
        Escalation.objects.filter(state=Escalation.State.ACTIVE, next_step_at__lte=now).values_list(
            "pk", "fence", "next_step_at"
        )
    )
    stuck = [pk for pk, _, at in due if at < now - stuck_after]
    if stuck:
        logger.error("stuck escalations resumed by the auditor: %s", stuck)
    steps = [escalation_step(escalation_id=pk, fence=str(fence), now=now) for pk, fence, _ in due]
    started = 0
    for incident in Incident.objects.filter(status=Incident.Status.TRIGGERED, escalations=None)[:1000]:
        with transaction.atomic():
            locked = Incident.objects.select_for_update().get(pk=incident.pk)
            started += escalation_sync(incident=locked, event="audit", now=now) is not None
    # A delivery claimed by a worker that died mid-send goes back to the queue: at-least-once,
    # so a send that happened just before the crash may repeat (the log shows both attempts).
    delivery.mark_lost(Notification.objects.filter(not_before__lt=now - stuck_after))
    # Deliveries due for a while are re-enqueued; claiming makes a duplicate task harmless.
    deliveries = list(
        Notification.objects.filter(
            status__in=delivery.OPEN, not_before__lte=now - min(REQUEUE_AFTER, stuck_after)
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in deliveries:
        enqueue("paging.tasks.deliver_notification", pk)
    return {"stepped": len(steps), "stuck": stuck, "started": started, "deliveries_enqueued": len(deliveries)}
