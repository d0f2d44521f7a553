"""Reads of paging: who is on call, where paging stands for an incident and what it sent."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td

from django.db.models import Q

from alerts.models import Incident
from paging.models import Escalation, EscalationLog, EscalationPolicy, EscalationRoute, Notification, OnCallRotation
from paging.oncall import Shift, shift_bounds, shift_index


def on_call_at(*, rotation: OnCallRotation, at: datetime) -> Shift | None:
    """The shift covering `at` (an override wins); None when nobody is on call."""
    override = rotation.overrides.filter(starts_at__lte=at, ends_at__gt=at).order_by("-starts_at").first()
    if override is not None:
        return Shift(override.user_id, override.starts_at, override.ends_at, override=True)
    members = list(rotation.members.values_list("user_id", flat=True))
    first = rotation.first_handoff()
    index = shift_index(first_handoff=first, length=rotation.length, custom_hours=rotation.custom_hours, at=at)
    if index is None or not members:
        return None
    start, end = shift_bounds(first, rotation.length, rotation.custom_hours, index)
    return Shift(members[index % len(members)], start, end)


def schedule(*, rotation: OnCallRotation, start: datetime, days: int = 14) -> list[Shift | tuple[datetime, datetime]]:
    """Shifts from `start` for `days` days; a (from, to) tuple marks a coverage gap."""
    out: list = []
    at, end = start, start + td(days=days)
    while at < end:
        shift = on_call_at(rotation=rotation, at=at)
        if shift is None:
            first = rotation.first_handoff()
            gap_end = min(end, first) if at < first else end
            out.append((at, gap_end))
            at = gap_end
            continue
        out.append(shift)
        at = max(shift.end, at + td(minutes=1))
    return out


def coverage_gaps(*, rotation: OnCallRotation, start: datetime, days: int = 14) -> list[tuple[datetime, datetime]]:
    return [item for item in schedule(rotation=rotation, start=start, days=days) if isinstance(item, tuple)]


def shift_count(rotation: OnCallRotation, start: datetime, end: datetime) -> int:
    """Shifts of the rotation that overlap [start, end)."""
    first = rotation.first_handoff()
    if end <= first:
        return 0
    kw = {"first_handoff": first, "length": rotation.length, "custom_hours": rotation.custom_hours}
    lo = shift_index(**kw, at=max(start, first))
    hi = shift_index(**kw, at=end - td(microseconds=1))
    return (hi - lo + 1) if lo is not None and hi is not None else 0


def shifts_by_team(*, team_ids: list[int], start: datetime, end: datetime) -> dict[int, int]:
    """Shifts of each team's staffed rotations that overlap [start, end)."""
    out: dict[int, int] = defaultdict(int)
    for rotation in OnCallRotation.objects.filter(team_id__in=team_ids, members__isnull=False).distinct():
        out[rotation.team_id] += shift_count(rotation, start, end)
    return dict(out)


NOT_SENT = (Notification.Status.CANCELLED, Notification.Status.DIGEST_QUEUED)


def pages_sent(*, team_ids: list[int], start: datetime, end: datetime) -> list[tuple[int, int, int | None, datetime]]:
    """(incident id, team id, user id, when) of the pages sent in [start, end): the delivery log's
    rows, but those cancelled or held for a digest."""
    notes = Notification.objects.filter(incident__team_id__in=team_ids, created_at__gte=start, created_at__lt=end)
    return list(
        notes.exclude(status__in=NOT_SENT).values_list("incident_id", "incident__team_id", "user_id", "created_at")
    )


def route_coverage(*, team_ids: list[int]) -> tuple[set[int], set[int]]:
    """The services that an escalation route names, and the teams with a catch-all route (the
    default one, or one that matches anything)."""
    routes = EscalationRoute.objects.filter(team_id__in=team_ids)
    routed = set(routes.exclude(service=None).values_list("service_id", flat=True))
    catch_all = Q(is_default=True) | Q(service=None, severities=[], matchers=[])
    return routed, set(routes.filter(catch_all).values_list("team_id", flat=True))


def policies_with_rotations(*, team_ids: list[int]) -> tuple[list[EscalationPolicy], dict[int, OnCallRotation]]:
    """The policies with a level that pages a rotation (their levels prefetched), and those rotations by id."""
    policies = EscalationPolicy.objects.filter(team_id__in=team_ids, levels__rotation__isnull=False).distinct()
    rotation_ids = set(policies.values_list("levels__rotation", flat=True))
    return list(policies.prefetch_related("levels")), OnCallRotation.objects.in_bulk(rotation_ids)


# Reads for the executive dashboard (bi): tenant-scoped querysets it aggregates itself.


@dataclass(frozen=True)
class PagingStatus:
    """Where paging stands for an incident, in words a responder reads at 3 a.m."""

    state: str  # starting, paging, paused, finished, unrouted, stopped, acknowledged, resolved
    reason: str

    @property
    def problem(self) -> bool:
        """Nobody is being paged although the incident is triggered."""
        return self.state in ("finished", "unrouted") or self.reason.startswith(("nobody", "every level"))


PROBLEM_ACTIONS = ("nobody_reachable", "coverage_gap")


def paging_statuses(*, incidents: list[Incident]) -> dict[int, PagingStatus]:
    """The paging status of each incident: two queries for any number of incidents."""
    ids = [i.id for i in incidents]
    latest = {
        e.incident_id: e
        for e in Escalation.objects.filter(incident_id__in=ids)
        .order_by("incident_id", "-started_at", "-id")
        .distinct("incident_id")
    }
    active = [e.id for e in latest.values() if e.state == Escalation.State.ACTIVE]
    problems = {
        log.escalation_id: log.detail
        for log in EscalationLog.objects.filter(escalation_id__in=active, action__in=PROBLEM_ACTIONS)
        .order_by("escalation_id", "-at", "-id")
        .distinct("escalation_id")
    }
    return {i.id: _status(i, latest.get(i.id), problems) for i in incidents}


def paging_status(*, incident: Incident) -> PagingStatus:
    return paging_statuses(incidents=[incident])[incident.id]


def _status(incident: Incident, escalation: Escalation | None, problems: dict[int, str]) -> PagingStatus:
    if incident.status == Incident.Status.RESOLVED:
        return PagingStatus("resolved", "incident resolved; nobody is paged")
    if incident.status == Incident.Status.ACKNOWLEDGED:
        who = incident.acknowledged_by.get_username() if incident.acknowledged_by_id else "an integration"
        return PagingStatus("acknowledged", f"acknowledged by {who}; paging stopped")
    if escalation is None:
        return PagingStatus("starting", "escalation starting")
    state = escalation.state
    if state == Escalation.State.ACTIVE:
        if not escalation.snapshot:
            return PagingStatus("starting", "routing to an escalation policy")
        if escalation.id in problems:
            return PagingStatus("paging", problems[escalation.id])
        levels = len(escalation.snapshot.get("levels", []))
        policy = escalation.snapshot.get("policy", "")
        return PagingStatus("paging", f"{policy}: level {min(escalation.next_level, levels)} of {levels} notified")
    if state == Escalation.State.FINISHED:
        return PagingStatus("finished", "every level was notified and nobody acknowledged")
    if state == Escalation.State.UNROUTED:
        return PagingStatus("unrouted", "no route matches this incident: nobody is paged")
    return PagingStatus(state, escalation.stop_reason)


def paging_timeline(*, incident: Incident, limit: int = 200) -> list[dict]:
    """Who was notified, when, by which channel, and the outcome; with the escalation's steps."""
    notifications = Notification.objects.filter(incident=incident).select_related("user", "channel")
    rows = [
        {
            "at": n.created_at,
            "kind": "delivery",
            "level": None if n.level is None else n.level + 1,
            "who": n.user.get_username() if n.user_id else (n.channel.name if n.channel_id else n.target),
            "channel": n.kind,
            "outcome": n.status,
            "sent_at": n.sent_at,
            "attempts": n.attempts,
            "detail": n.error,
        }
        for n in notifications.order_by("-id")[:limit]
    ]
    for log in EscalationLog.objects.filter(escalation__incident=incident).order_by("-id")[:limit]:
        rows.append(
            {
                "at": log.at,
                "kind": "escalation",
                "level": None if log.level is None else log.level + 1,
                "who": "",
                "channel": "",
                "outcome": log.action,
                "sent_at": None,
                "attempts": None,
                "detail": log.detail,
            }
        )
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows[:limit]
