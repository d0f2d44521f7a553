"""Alert-quality reads: the facts of every alert and page in a period from a handful of batched
queries (never one per alert), grouped per rule, service or team and handed to the maths."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from alerts.models import Alert, AlertEvent
from core.teams.models import Profile
from paging.models import Notification, OnCallRotation
from paging.oncall import shift_index
from paging.quality import calculations as calc

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
GROUPINGS = ("rule", "service", "team")
NOT_SENT = (Notification.Status.CANCELLED, Notification.Status.DIGEST_QUEUED)


@dataclass
class Row:
    by: str
    id: int | None
    name: str
    team_id: int
    quality: calc.Quality

    def as_dict(self) -> dict:
        return {"by": self.by, "id": self.id, "name": self.name, "team_id": self.team_id, **self.quality.as_dict()}


def period_alerts(*, team_ids: list[int], start: datetime, end: datetime):
    return (
        Alert.objects.filter(team_id__in=team_ids)
        .annotate(fired=Coalesce("fired_at", "first_seen"))
        .filter(fired__gte=start, fired__lt=end)
    )


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
    out: dict[int, int] = defaultdict(int)
    for rotation in OnCallRotation.objects.filter(team_id__in=team_ids, members__isnull=False).distinct():
        out[rotation.team_id] += shift_count(rotation, start, end)
    return dict(out)


def quality(*, team_ids: list[int], days: int, by: str, now: datetime | None = None) -> list[Row]:
    """Quality per rule, service or team over the last `days`, noisiest first."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    end = now or timezone.now()
    start = end - td(days=days)
    alerts = period_alerts(team_ids=team_ids, start=start, end=end)
    rows = list(
        alerts.values(
            "id",
            "team_id",
            "rule_id",
            "service_id",
            "fired",
            "acknowledged_at",
            "resolved_at",
            "flapping",
            "occurrences",
            team_name=F("team__name"),
            rule_name=F("rule__name"),
            service_name=F("service__name"),
        )
    )
    events = AlertEvent.objects.filter(alert__in=alerts.values("id"))
    human = set(events.filter(actor__isnull=False).values_list("alert_id", flat=True).distinct())
    reopened = set(events.filter(kind="reopened").values_list("alert_id", flat=True).distinct())

    def key_of(row: dict) -> tuple:
        group_id = row["team_id"] if by == "team" else row[f"{by}_id"]
        return (group_id, row["team_id"])

    names: dict[tuple, str] = {}
    facts: dict[tuple, list[calc.AlertFacts]] = defaultdict(list)
    for row in rows:
        key = key_of(row)
        names[key] = row[f"{by}_name"] or "(none)"
        facts[key].append(
            calc.AlertFacts(
                fired_at=row["fired"],
                acknowledged_at=row["acknowledged_at"],
                resolved_at=row["resolved_at"],
                flapping=row["flapping"],
                duplicate=row["occurrences"] > 1 or row["id"] in reopened,
                human=row["id"] in human,
            )
        )
    pages = page_groups(team_ids=team_ids, start=start, end=end, by=by)
    shifts = shifts_by_team(team_ids=team_ids, start=start, end=end)
    out = [
        Row(
            by=by,
            id=key[0],
            name=names[key],
            team_id=key[1],
            quality=calc.quality_of(facts[key], pages.get(key, []), days=days, shifts=shifts.get(key[1], 0)),
        )
        for key in facts
    ]
    out.sort(key=lambda r: (-r.quality.noise, -r.quality.alerts, r.name))
    return out


def page_groups(*, team_ids: list[int], start: datetime, end: datetime, by: str) -> dict[tuple, list[calc.Page]]:
    """Pages sent in the period (Notification rows, not cancelled or held for a digest), each
    counted once for every rule/service whose alerts are in the paged incident."""
    notes = list(
        Notification.objects.filter(incident__team_id__in=team_ids, created_at__gte=start, created_at__lt=end)
        .exclude(status__in=NOT_SENT)
        .values_list("incident_id", "incident__team_id", "user_id", "created_at")
    )
    zones = dict(Profile.objects.filter(user_id__in={n[2] for n in notes if n[2]}).values_list("user_id", "timezone"))
    groups: dict[int, set] = defaultdict(set)
    if by != "team":
        pairs = Alert.objects.filter(incident_id__in={n[0] for n in notes}).values_list("incident_id", f"{by}_id")
        for incident_id, group_id in pairs.distinct():
            groups[incident_id].add(group_id)
    out: dict[tuple, list[calc.Page]] = defaultdict(list)
    for incident_id, team_id, user_id, at in notes:
        page = calc.Page(at=at, timezone=zones.get(user_id, "UTC") if user_id else None)
        for group_id in groups[incident_id] if by != "team" else {team_id}:
            out[(group_id, team_id)].append(page)
    return dict(out)
