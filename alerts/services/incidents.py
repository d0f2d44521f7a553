"""Incidents: grouping alerts, priority, lifecycle, merge and split."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from alerts import events
from alerts.machines import alert as alert_machine
from alerts.machines import incident as machine
from alerts.models import Alert, GroupingRule, Incident, Severity
from alerts.models.alerts import OPEN_STATUSES
from alerts.services.timeline import alert_event, incident_event
from metrics.matchers import matches

DEFAULT_CRITICALITY = 2


class IncidentError(ValueError):
    """A refused incident action; the message says why. `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def priority_for(severity: str, criticality: int | None) -> int:
    """P1–P5: severity rank (critical 0 … info 4) plus service tier (1 … 4), capped at 5."""
    return min(5, Severity.rank(severity) + (criticality or DEFAULT_CRITICALITY))


def group_key_for(alert: Alert) -> tuple[GroupingRule | None, str]:
    for rule in GroupingRule.objects.filter(team_id=alert.team_id):
        if matches(rule.matchers, alert.labels):
            values = "|".join(f"{name}={alert.labels.get(name, '')}" for name in rule.group_by)
            return rule, f"rule:{rule.id}:{values}"
    if alert.service_id:
        return None, f"service:{alert.service_id}"
    return None, f"alertname:{alert.labels.get('alertname') or alert.summary[:200]}"


def _title(alert: Alert) -> str:
    return (f"{alert.service.name}: " if alert.service_id else "") + alert.summary


def _open_or_reopen(alert: Alert, rule: GroupingRule | None, key: str, now: datetime) -> tuple[Incident, str]:
    """The open incident of the group, a recently resolved one reopened, or a new one; and the
    event paging hears about it ("" when it was open already)."""
    incident = (
        Incident.objects.select_for_update()
        .filter(team_id=alert.team_id, group_key=key)
        .exclude(status=Incident.Status.RESOLVED)
        .first()
    )
    if incident:
        return incident, ""
    window = rule.group_window if rule else GroupingRule._meta.get_field("group_window").default
    recent = (
        Incident.objects.select_for_update()
        .filter(team_id=alert.team_id, group_key=key, status=Incident.Status.RESOLVED, resolved_at__gte=now - window)
        .order_by("-resolved_at")
        .first()
    )
    if recent:
        machine.apply(
            recent,
            "reopen",
            actor_name="system",
            at=now,
            message=f"new alert within {window} of resolving",
            silent=True,
        )
        return recent, "reopen"
    incident = Incident.objects.create(
        team_id=alert.team_id,
        service=alert.service,
        grouping_rule=rule,
        group_key=key,
        title=_title(alert),
        priority=priority_for(alert.severity, alert.service.criticality if alert.service_id else None),
        opened_at=now,
    )
    machine.opened(incident, message=f"opened by alert: {alert.summary}")
    return incident, "trigger"


def incident_attach(*, alert: Alert, now: datetime | None = None) -> Incident:
    """Put a firing alert into the open incident of its group (creating or reopening one)."""
    now = now or timezone.now()
    rule, key = group_key_for(alert)
    for attempt in range(3):
        try:
            with transaction.atomic():
                incident, event = _open_or_reopen(alert, rule, key, now)
            break
        except IntegrityError:  # another process opened it first; take theirs
            if attempt == 2:
                raise
    alert.incident = incident
    alert.save(update_fields=["incident"])
    alert_event(alert, "grouped", actor_name="system", message=f"added to incident {incident.uid}")
    incident_event(incident, "alert_added", actor_name="system", message=alert.summary, alert=str(alert.uid))
    if incident.service_id is None and alert.service_id is not None:
        incident.service = alert.service
        incident.save(update_fields=["service"])
    return incident_refresh(incident=incident, event=event or "alerts_changed")


def incident_refresh(
    *, incident: Incident, by=None, actor_name: str | None = None, event: str = "alerts_changed", channel: str = ""
) -> Incident:
    """Derive the incident from its alerts: resolved when all are resolved, acknowledged when
    every open one is, triggered again when an acknowledged incident has a firing alert. Then
    tell paging (which starts, keeps or stops the escalation)."""
    # One grouped query, not every alert row: an alert storm into one incident stays linear.
    groups = list(incident.alerts.order_by().values_list("status", "severity").annotate(n=Count("*")))
    open_groups = [(status, severity) for status, severity, _ in groups if status in OPEN_STATUSES]
    if groups:
        criticality = incident.service.criticality if incident.service_id else None
        severities = {severity for _, severity in open_groups} or {severity for _, severity, _ in groups}
        priority = min(priority_for(severity, criticality) for severity in severities)
        if priority != incident.priority:
            incident.priority = priority
            incident.save(update_fields=["priority"])
    statuses = {status for status, _ in open_groups}
    name = actor_name or "system"
    if groups and not open_groups and incident.status != Incident.Status.RESOLVED:
        machine.apply(incident, "resolve", by=by, actor_name=name, message="all alerts resolved", channel=channel)
    elif incident.status == Incident.Status.ACKNOWLEDGED and "firing" in statuses:
        machine.apply(incident, "retrigger", actor_name=name, message="an alert fired again")
    elif incident.status == Incident.Status.TRIGGERED and statuses == {"acknowledged"}:
        machine.apply(
            incident, "acknowledge", by=by, actor_name=actor_name, message="every alert acknowledged", channel=channel
        )
    else:
        machine.announce(incident, event or "alerts_changed", by=by, channel=channel)
    return incident


@transaction.atomic
def incident_acknowledge(*, incident: Incident, by, channel: str = "") -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status != Incident.Status.TRIGGERED:
        raise IncidentError(f"incident is {incident.status}, not triggered")
    now = timezone.now()
    for alert in incident.alerts.select_for_update().filter(status__in=["firing", "pending"]):
        alert_machine.apply(alert, "acknowledge", by=by, at=now, message="via incident")
        events.alert_changed(alert)
    return machine.apply(incident, "acknowledge", by=by, at=now, channel=channel)


@transaction.atomic
def incident_resolve(*, incident: Incident, by, note: str = "", channel: str = "") -> Incident:
    incident = Incident.objects.select_for_update(of=("self",)).select_related("team").get(pk=incident.pk)
    if incident.status == Incident.Status.RESOLVED:
        raise IncidentError("incident is already resolved")
    if incident.team.require_resolution_note and not note.strip():
        raise IncidentError("this team requires a resolution note", status=400)
    now = timezone.now()
    for alert in incident.alerts.select_for_update().filter(status__in=OPEN_STATUSES):
        alert_machine.apply(alert, "resolve", by=by, at=now, message="incident resolved")
        events.alert_changed(alert)
    return machine.apply(incident, "resolve", by=by, at=now, message=note, note=note, channel=channel)


@transaction.atomic
def incident_update(*, incident: Incident, by, **fields) -> Incident:
    """Assignee, priority override, title, resolution note and postmortem fields."""
    allowed = {
        "assignee",
        "priority_override",
        "title",
        "resolution_note",
        "postmortem_summary",
        "root_cause",
        "follow_ups",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise IncidentError(f"cannot change {', '.join(sorted(unknown))}", status=400)
    if fields.get("priority_override") not in (None, 1, 2, 3, 4, 5):
        raise IncidentError("priority_override must be 1–5 or null", status=400)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    changes = {}
    for name, value in fields.items():
        before = getattr(incident, name)
        if before != value:
            setattr(incident, name, value)
            changes[name] = [_plain(before), _plain(value)]
    if changes:
        incident.save()
        incident_event(incident, "updated", by=by, message=", ".join(sorted(changes)), changes=changes)
        events.incident_changed(incident)
    return incident


def _plain(value):
    return getattr(value, "pk", value)


@transaction.atomic
def incident_note(*, incident: Incident, by, text: str) -> None:
    if not text.strip():
        raise IncidentError("a note needs text", status=400)
    incident_event(incident, "note", by=by, message=text)


@transaction.atomic
def incident_merge(*, target: Incident, sources: list[Incident], by) -> Incident:
    """Move the alerts of `sources` into `target` and resolve the sources as merged."""
    target = Incident.objects.select_for_update().get(pk=target.pk)
    for source in Incident.objects.select_for_update().filter(pk__in=[s.pk for s in sources]).exclude(pk=target.pk):
        if source.team_id != target.team_id:
            raise IncidentError("incidents of different teams cannot be merged")
        moved = list(source.alerts.all())
        source.alerts.update(incident=target)
        incident_event(source, "merged", by=by, message=f"merged into {target.uid}", into=str(target.uid))
        machine.apply(source, "resolve", by=by, message=f"merged into {target.uid}", note=f"merged into {target.uid}")
        incident_event(
            target, "merged_in", by=by, message=f"{len(moved)} alert(s) from {source.uid}", source=str(source.uid)
        )
        for alert in moved:
            alert_event(alert, "moved", by=by, message=f"moved to incident {target.uid}")
    return incident_refresh(incident=target, by=by)


@transaction.atomic
def incident_split(*, incident: Incident, alerts: list[Alert], by) -> Incident:
    """Move some alerts of an incident into a new incident of their own."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    ids = [a.pk for a in alerts]
    if not ids or incident.alerts.filter(pk__in=ids).count() != len(ids):
        raise IncidentError("choose alerts that belong to this incident", status=400)
    if incident.alerts.exclude(pk__in=ids).count() == 0:
        raise IncidentError("cannot split off every alert; leave at least one")
    first = incident.alerts.filter(pk__in=ids).order_by("first_seen").first()
    new = Incident.objects.create(
        team_id=incident.team_id,
        service=first.service,
        group_key=f"split:{incident.uid}:{first.uid}",
        title=_title(first),
        priority=incident.priority,
        status=incident.status,
    )
    incident.alerts.filter(pk__in=ids).update(incident=new)
    incident_event(new, "split", by=by, message=f"split from {incident.uid}", source=str(incident.uid))
    incident_event(incident, "split_off", by=by, message=f"{len(ids)} alert(s) to {new.uid}", into=str(new.uid))
    incident_refresh(incident=incident, by=by)
    return incident_refresh(incident=new, by=by, event="trigger" if new.status == Incident.Status.TRIGGERED else "")
