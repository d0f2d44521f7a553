"""Reads of alerts and incidents for other apps (and whether an incident should be paging)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from alerts.models import Alert, AlertEvent, AlertRule, Incident
from alerts.models.alerts import OPEN_STATUSES
from catalog.models import Service


def incidents_for_teams(*, team_ids: list[int]) -> QuerySet[Incident]:
    return Incident.objects.filter(team_id__in=team_ids)


def services_for_teams(*, team_ids: list[int]) -> QuerySet[Service]:
    return Service.objects.filter(team_id__in=team_ids)


def incidents_by_id(*, ids: set[int]) -> dict[int, Incident]:
    return Incident.objects.in_bulk(ids)


def rules_by_id(*, ids: list[int]) -> dict[int, AlertRule]:
    return AlertRule.objects.in_bulk(ids)


def alerts_fired(*, team_ids: list[int], start: datetime, end: datetime) -> list[dict]:
    """The alerts that fired in [start, end) (`fired`: when they fired, or were first seen), as
    rows with their team, rule and service (ids and names), outcome times, flapping and
    occurrences, and `human` / `reopened`: whether a person acted on the alert / it reopened.
    Three queries, however many alerts."""
    alerts = (
        Alert.objects.filter(team_id__in=team_ids)
        .annotate(fired=Coalesce("fired_at", "first_seen"))
        .filter(fired__gte=start, fired__lt=end)
    )
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
    for row in rows:
        row["human"], row["reopened"] = row["id"] in human, row["id"] in reopened
    return rows


def incident_members(*, incident_ids: set[int], by: str) -> list[tuple[int, int | None]]:
    """(incident id, rule or service id — `by`) of the alerts in these incidents, each pair once."""
    if by not in ("rule", "service"):
        raise ValueError("by must be rule or service")
    pairs = Alert.objects.filter(incident_id__in=incident_ids).values_list("incident_id", f"{by}_id")
    return list(pairs.distinct())


def incidents_opened_since(*, incident: Incident, since: datetime, limit: int) -> list[Incident]:
    """The incident's team's other incidents opened since `since`, newest first, with their
    service and resolver."""
    qs = Incident.objects.filter(team_id=incident.team_id, opened_at__gte=since).exclude(id=incident.id)
    return list(qs.select_related("service", "resolved_by").order_by("-opened_at")[:limit])


def incident_alerts(*, incident: Incident, limit: int = 200) -> list[Alert]:
    """The incident's alerts, first seen first, with their series."""
    return list(incident.alerts.select_related("series").order_by("first_seen", "id")[:limit])


def incident_alert_labels(*, incident_ids: list[int]) -> list[tuple[int, dict, str]]:
    """(incident id, labels, summary) of every alert in these incidents."""
    return list(Alert.objects.filter(incident_id__in=incident_ids).values_list("incident_id", "labels", "summary"))


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
