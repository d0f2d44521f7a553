"""What the operator console shows: open incidents and alerts, counts by severity, the health
of each service and who is on call. Reads only; every query limited to the caller's teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from alerts.models import Alert, Incident, Severity
from alerts.models.alerts import OPEN_STATUSES
from catalog.models import Service
from paging.models import OnCallRotation
from paging.selectors import on_call_at

MAX_ROWS = 50  # per list; filters narrow a bigger storm (the counts above the lists cover all)
SEVERITIES = [s.value for s in Severity]


ALERT_FIELDS = (
    "uid",
    "status",
    "muted",
    "flapping",
    "severity",
    "summary",
    "last_seen",
    "incident_id",
    "service_id",
    "service__name",
    "service__slug",
    "incident__uid",
)


@dataclass
class Filters:
    severity: list[str]
    service: str
    q: str
    muted: bool = False  # show muted alerts too

    @classmethod
    def from_query(cls, params) -> Filters:
        severity = [s for s in params.get("severity", "").split(",") if s in SEVERITIES]
        return cls(
            severity=severity,
            service=params.get("service", "")[:120],
            q=params.get("q", "").strip()[:200],
            muted=params.get("muted") == "1",
        )


def open_alerts(*, team_ids: list[int], filters: Filters) -> list[Alert]:
    qs = Alert.objects.filter(team_id__in=team_ids, status__in=OPEN_STATUSES)
    if not filters.muted:
        qs = qs.filter(muted="")
    if filters.severity:
        qs = qs.filter(severity__in=filters.severity)
    if filters.service:
        qs = qs.filter(service__slug=filters.service)
    if filters.q:
        qs = qs.filter(Q(summary__icontains=filters.q) | Q(labels__icontains=filters.q))
    qs = qs.select_related("service", "incident").only(*ALERT_FIELDS)
    return sorted(
        qs.order_by("-last_seen")[:MAX_ROWS], key=lambda a: (Severity.rank(a.severity), -a.last_seen.timestamp())
    )


def open_alert_groups(*, team_ids: list[int]) -> list[dict]:
    """Open unmuted alerts counted by service and severity: one index-only scan feeds both the
    severity counts and the service health grid."""
    return list(
        Alert.objects.filter(team_id__in=team_ids, status__in=OPEN_STATUSES, muted="")
        .values("service_id", "severity")
        .annotate(n=Count("*"))  # COUNT(*): answered from the index alone (COUNT(id) reads every row)
        .order_by()
    )


def severity_counts(*, groups: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for row in groups:
        counts[row["severity"]] = counts.get(row["severity"], 0) + row["n"]
    return counts


def open_incidents(*, team_ids: list[int], filters: Filters) -> list[Incident]:
    qs = Incident.objects.filter(team_id__in=team_ids).exclude(status=Incident.Status.RESOLVED)
    if filters.service:
        qs = qs.filter(service__slug=filters.service)
    if filters.q:
        qs = qs.filter(title__icontains=filters.q)
    if filters.severity:  # incidents with an open alert of those severities
        with_severity = Alert.objects.filter(
            team_id__in=team_ids, status__in=OPEN_STATUSES, severity__in=filters.severity
        ).values("incident_id")
        qs = qs.filter(id__in=with_severity)
    incidents = list(qs.select_related("service", "acknowledged_by").order_by("priority", "-opened_at")[:MAX_ROWS])
    counts = dict(  # one grouped query for the incidents shown, not a join over every alert
        Alert.objects.filter(incident_id__in=[i.id for i in incidents], status__in=OPEN_STATUSES)
        .values("incident_id")
        .annotate(n=Count("id"))
        .values_list("incident_id", "n")
    )
    for incident in incidents:
        incident.open_alerts = counts.get(incident.id, 0)
    return incidents


@dataclass
class ServiceHealth:
    service: Service
    worst: str  # a severity, or "ok"
    open_alerts: int
    incidents: int


def service_health(*, team_ids: list[int], groups: list[dict]) -> list[ServiceHealth]:
    services = list(Service.objects.filter(team_id__in=team_ids).order_by("criticality", "name"))
    alerts = [row for row in groups if row["service_id"] is not None]
    worst: dict[int, str] = {}
    counts: dict[int, int] = {}
    for row in alerts:
        sid = row["service_id"]
        counts[sid] = counts.get(sid, 0) + row["n"]
        if sid not in worst or Severity.rank(row["severity"]) < Severity.rank(worst[sid]):
            worst[sid] = row["severity"]
    incidents = dict(
        Incident.objects.filter(team_id__in=team_ids, service__isnull=False)
        .exclude(status=Incident.Status.RESOLVED)
        .values("service_id")
        .annotate(n=Count("id"))
        .values_list("service_id", "n")
    )
    return [ServiceHealth(s, worst.get(s.id, "ok"), counts.get(s.id, 0), incidents.get(s.id, 0)) for s in services]


def on_call_now(*, team_ids: list[int], at: datetime) -> list[dict]:
    rows = []
    for rotation in OnCallRotation.objects.filter(team_id__in=team_ids).order_by("name"):
        shift = on_call_at(rotation=rotation, at=at)
        rows.append(
            {"rotation": rotation, "user_id": shift.user_id if shift else None, "end": shift.end if shift else None}
        )
    names = dict(get_user_model().objects.filter(pk__in={r["user_id"] for r in rows}).values_list("pk", "username"))
    for row in rows:
        row["user"] = names.get(row["user_id"])
    return rows


def services_for(*, team_ids: list[int]) -> list[str]:
    return list(Service.objects.filter(team_id__in=team_ids).order_by("slug").values_list("slug", flat=True))
