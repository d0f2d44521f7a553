"""Reads that cross relations: on-call schedules and coverage."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta as td

from django.db.models import QuerySet

from alerts.models import Alert, Incident, OnCallRotation, Service
from alerts.models.alerts import OPEN_STATUSES
from alerts.oncall import Shift, shift_bounds, shift_index


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


# Reads for the executive dashboard (bi): tenant-scoped querysets it aggregates itself.


def incidents_for_teams(*, team_ids: list[int]) -> QuerySet[Incident]:
    return Incident.objects.filter(team_id__in=team_ids)


def services_for_teams(*, team_ids: list[int]) -> QuerySet[Service]:
    return Service.objects.filter(team_id__in=team_ids)


def open_forecast_alerts(*, team_ids: list[int], limit: int = 20) -> list[Alert]:
    """Open, unmuted alerts raised by `forecast_breach` rules (predicted breaches), newest first."""
    qs = Alert.objects.filter(team_id__in=team_ids, status__in=OPEN_STATUSES, muted="", rule__kind="forecast_breach")
    return list(qs.select_related("service", "rule").order_by("-last_seen")[:limit])


def paging_wanted(incident: Incident) -> tuple[bool, str]:
    """Whether the incident should be paging now, and if not, why (shown on its page)."""
    if incident.status != Incident.Status.TRIGGERED:
        return False, f"incident {incident.status}"
    firing = incident.alerts.filter(status="firing")
    if not firing.exists():
        return False, "no firing alert"
    if not firing.filter(muted="").exists():
        kinds = sorted(set(firing.values_list("muted", flat=True)))
        return False, f"every firing alert is {' or '.join(kinds)}"
    return True, ""
