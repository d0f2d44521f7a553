"""Reads of alerts and incidents for other apps (and whether an incident should be paging)."""

from __future__ import annotations

from django.db.models import QuerySet

from alerts.models import Alert, Incident
from alerts.models.alerts import OPEN_STATUSES
from catalog.models import Service


def incidents_for_teams(*, team_ids: list[int]) -> QuerySet[Incident]:
    return Incident.objects.filter(team_id__in=team_ids)


def services_for_teams(*, team_ids: list[int]) -> QuerySet[Service]:
    return Service.objects.filter(team_id__in=team_ids)


def open_forecast_alerts(*, team_ids: list[int], limit: int = 20) -> list[Alert]:
    """Open, unmuted alerts raised by `forecast_breach` rules (predicted breaches), newest first."""
    qs = Alert.objects.filter(team_id__in=team_ids, status__in=OPEN_STATUSES, muted="", rule__kind="forecast_breach")
    return list(qs.select_related("service", "rule").order_by("-last_seen")[:limit])


MUTED_WORDS = {"maintenance": "in a maintenance window", "suppressed": "suppressed by inhibition"}


def paging_wanted(incident: Incident) -> tuple[bool, str]:
    """Whether the incident should be paging now, and if not, why (shown on its page)."""
    if incident.status != Incident.Status.TRIGGERED:
        return False, f"incident {incident.status}"
    firing = incident.alerts.filter(status="firing")
    if not firing.exists():
        return False, "no firing alert"
    if not firing.filter(muted="").exists():
        kinds = sorted(set(firing.values_list("muted", flat=True)))
        return False, f"every firing alert is {' or '.join(MUTED_WORDS.get(k, k) for k in kinds)}"
    return True, ""
