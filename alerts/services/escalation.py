"""Escalations: route an incident to a policy, snapshot it, step it level by level with fenced
Celery tasks, and stop it atomically on acknowledge or resolve."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from alerts.matchers import matches
from alerts.models import (
    Alert,
    Escalation,
    EscalationLog,
    EscalationPolicy,
    EscalationRoute,
    Incident,
    Notification,
    NotificationChannel,
    NotificationRule,
    OnCallRotation,
    Severity,
)
from alerts.selectors import on_call_at
from hive_ops.teams.models import Membership

logger = logging.getLogger(__name__)
REQUEUE_AFTER = td(seconds=30)


def route_policy(incident: Incident) -> EscalationPolicy | None:
    alerts = list(incident.alerts.all())
    severity = min((a.severity for a in alerts), key=Severity.rank, default=Severity.INFO)
    labels = alerts[0].labels if alerts else {}
    for route in EscalationRoute.objects.filter(team_id=incident.team_id).select_related("policy"):
        if route.is_default:
            return route.policy
        if route.service_id and route.service_id != incident.service_id:
            continue
        if route.severities and severity not in route.severities:
            continue
        if matches(route.matchers, labels):
            return route.policy
    return None


def policy_snapshot(policy: EscalationPolicy) -> dict:
    levels = []
    for level in policy.levels.prefetch_related("users", "teams", "channels"):
        levels.append(
            {
                "position": level.position,
                "wait_s": int(level.wait.total_seconds()),
                "strategy": level.strategy,
                "users": [u.pk for u in level.users.all()],
                "teams": [t.pk for t in level.teams.all()],
                "rotation": level.rotation_id,
                "channels": [c.pk for c in level.channels.all()],
                "only_days": level.only_days,
                "only_from": level.only_from.isoformat() if level.only_from else None,
                "only_until": level.only_until.isoformat() if level.only_until else None,
                "timezone": level.timezone,
                "min_alerts": level.min_alerts,
                "min_alerts_window_s": int(level.min_alerts_window.total_seconds())
                if level.min_alerts_window
                else None,
            }
        )
    return {
        "policy": policy.name,
        "levels": levels,
        "repeat": policy.repeat,
        "repeat_from": max(policy.repeat_from_level, 1) - 1,
        "round_robin": {},
    }


def _log(escalation: Escalation, action: str, detail: str = "", level: int | None = None) -> None:
    EscalationLog.objects.create(
        escalation=escalation, action=action, detail=detail, level=level, cycle=escalation.cycle
    )


def escalation_start(*, incident: Incident, reason: str, now: datetime | None = None) -> Escalation | None:
    """Start (or restart) the escalation of an incident. Call inside the incident's transaction."""
    now = now or timezone.now()
    policy = route_policy(incident)
    if policy is None:
        return None
    escalation_stop(incident=incident, reason=f"restarted: {reason}", cancel_pending=False)
    escalation = Escalation.objects.create(
        incident=incident, policy=policy, snapshot=policy_snapshot(policy), next_step_at=now, started_at=now
    )
    _log(escalation, "started", f"{policy.name}: {reason}")
    _schedule(escalation)
    return escalation


def escalation_stop(*, incident: Incident, reason: str, cancel_pending: bool = True) -> int:
    """Stop the incident's escalation at once: a new fence makes every queued step a no-op, and
    deliveries not yet sent are cancelled in the same transaction."""
    now = timezone.now()
    stopped = 0
    for escalation in Escalation.objects.select_for_update().filter(incident=incident, state=Escalation.State.ACTIVE):
        escalation.state, escalation.stopped_at, escalation.stop_reason = Escalation.State.STOPPED, now, reason
        escalation.fence = uuid.uuid4()
        escalation.save()
        _log(escalation, "stopped", reason)
        stopped += 1
    if cancel_pending:
        Notification.objects.filter(incident=incident, status__in=["pending", "retrying"]).update(
            status=Notification.Status.CANCELLED, error=f"cancelled: {reason}"
        )
    return stopped


def _schedule(escalation: Escalation) -> None:
    from alerts.tasks import escalation_step

    args = (escalation.pk, str(escalation.fence))
    eta = escalation.next_step_at

    def enqueue() -> None:
        try:
            escalation_step.apply_async(args, eta=eta)
        except Exception:  # broker down: the auditor steps due escalations every 30 s
            logger.warning("escalation step not enqueued; the auditor will run it", exc_info=True)

    transaction.on_commit(enqueue)


def _level_applies(level: dict, incident: Incident, now: datetime) -> str | None:
    """None when the level applies now, else why it is skipped."""
    local = now.astimezone(ZoneInfo(level.get("timezone") or "UTC"))
    if level.get("only_days") and local.weekday() not in level["only_days"]:
        return "not on this weekday"
    start, end = level.get("only_from"), level.get("only_until")
    if start and end:
        t = local.time().isoformat()
        inside = start <= t < end if start <= end else (t >= start or t < end)
        if not inside:
            return f"outside {start}–{end} {level.get('timezone')}"
    if level.get("min_alerts"):
        since = now - td(seconds=level.get("min_alerts_window_s") or 3600)
        count = Alert.objects.filter(team_id=incident.team_id, first_seen__gte=since).count()
        if count <= level["min_alerts"]:
            return f"only {count} alert(s) in the window (needs more than {level['min_alerts']})"
    return None


def _level_targets(level: dict, escalation: Escalation, index: int, now: datetime) -> tuple[list[int], list[int]]:
    """(user ids, channel ids) for a level, applying round-robin across escalations."""
    users = list(level["users"])
    if level["teams"]:
        users += list(Membership.objects.filter(team_id__in=level["teams"]).values_list("user_id", flat=True))
    if level["rotation"]:
        rotation = OnCallRotation.objects.filter(pk=level["rotation"]).first()
        shift = on_call_at(rotation=rotation, at=now) if rotation else None
        if shift is not None:
            users.append(shift.user_id)
        else:
            _log(escalation, "coverage_gap", f"nobody on call in rotation {level['rotation']}", index)
    users = list(dict.fromkeys(users))
    channels = list(level["channels"])
    if level["strategy"] == "round_robin" and (users or channels):
        targets = [("u", u) for u in users] + [("c", c) for c in channels]
        # The n-th escalation of this policy goes to the n-th target, so load spreads evenly.
        turn = Escalation.objects.filter(policy_id=escalation.policy_id, started_at__lt=escalation.started_at).count()
        kind, target = targets[turn % len(targets)]
        escalation.snapshot["round_robin"][str(index)] = f"{kind}{target}"
        return ([target], []) if kind == "u" else ([], [target])
    return users, channels


def _notify_level(escalation: Escalation, index: int, level: dict, now: datetime) -> list[int]:
    incident = escalation.incident
    users, channels = _level_targets(level, escalation, index, now)
    urgency = "high" if incident.effective_priority <= 2 else "low"
    base = f"{escalation.pk}:{escalation.cycle}:{index}"
    created = []

    def add(kind, target, dedup, **kw) -> None:
        notification, new = Notification.objects.get_or_create(
            dedup_key=dedup,
            defaults={
                "incident": incident,
                "escalation": escalation,
                "kind": kind,
                "target": target[:500],
                "level": index,
                **kw,
            },
        )
        if new:
            created.append(notification.pk)

    for user in get_user_model().objects.filter(pk__in=users):
        rules = list(NotificationRule.objects.filter(user=user, urgency=urgency).select_related("contact_method"))
        if not rules and user.email:
            add("email", user.email, f"{base}:u{user.pk}:default", user=user)
        for rule in rules:
            method = rule.contact_method
            add(method.kind, method.address, f"{base}:u{user.pk}:r{rule.pk}", user=user, not_before=now + rule.delay)
        if not rules and not user.email:
            _log(escalation, "unreachable", f"{user} has no notification rules and no email", index)
    for channel in NotificationChannel.objects.filter(pk__in=channels):
        add(channel.kind, channel.name, f"{base}:c{channel.pk}", channel=channel)
    return created


def escalation_step(*, escalation_id: int, fence: str, now: datetime | None = None) -> str:
    """Run the due level of an escalation. Fenced: a task carrying an old fence does nothing."""
    from alerts.tasks import deliver_notification

    now = now or timezone.now()
    with transaction.atomic():
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
        levels = escalation.snapshot["levels"]
        if escalation.next_level >= len(levels):
            if escalation.cycle >= escalation.snapshot["repeat"] or not levels:
                escalation.state, escalation.stopped_at = Escalation.State.FINISHED, now
                escalation.stop_reason = "all levels and repeats done"
                escalation.save()
                _log(escalation, "finished", escalation.stop_reason)
                return "finished"
            escalation.cycle += 1
            escalation.next_level = min(escalation.snapshot["repeat_from"], len(levels) - 1)
            _log(escalation, "repeat", f"repeat {escalation.cycle} of {escalation.snapshot['repeat']}")
        index = escalation.next_level
        level = levels[index]
        skipped = _level_applies(level, escalation.incident, now)
        if skipped:
            _log(escalation, "level_skipped", skipped, index)
            created, wait = [], td(0)
        else:
            created = _notify_level(escalation, index, level, now)
            _log(escalation, "level_notified", f"{len(created)} notification(s)", index)
            wait = td(seconds=level["wait_s"])
        escalation.next_level += 1
        escalation.next_step_at = now + wait
        escalation.save()
        for pk in created:
            transaction.on_commit(lambda pk=pk: _enqueue_delivery(deliver_notification, pk))
        _schedule(escalation)
    return f"level {index + 1}: {len(created)} notification(s)"


def _enqueue_delivery(task, pk: int) -> None:
    try:
        task.delay(pk)
    except Exception:  # broker down: the auditor re-enqueues due deliveries
        logger.warning("delivery %s not enqueued; the auditor will send it", pk, exc_info=True)


def escalations_audit(*, now: datetime | None = None) -> dict:
    """Step every due escalation and resend due deliveries. Escalations overdue by more than
    HIVEOPS_STUCK_AFTER_SECONDS are reported: their tasks were lost (a worker died, or Redis restarted)."""
    from alerts.tasks import deliver_notification

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
    # A delivery claimed by a worker that died mid-send goes back to the queue: at-least-once,
    # so a send that happened just before the crash may repeat (the log shows both attempts).
    Notification.objects.filter(status="sending", not_before__lt=now - stuck_after).update(
        status="retrying", error="worker lost during sending; retried"
    )
    # Deliveries due for a while are re-enqueued; claiming makes a duplicate task harmless.
    deliveries = list(
        Notification.objects.filter(
            status__in=["pending", "retrying"], not_before__lte=now - min(REQUEUE_AFTER, stuck_after)
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in deliveries:
        _enqueue_delivery(deliver_notification, pk)
    return {"stepped": len(steps), "stuck": stuck, "deliveries_enqueued": len(deliveries)}
