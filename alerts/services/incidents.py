"""Incidents: grouping alerts, priority, lifecycle, merge and split."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts import events
from alerts.matchers import matches
from alerts.models import Alert, GroupingRule, Incident, Severity
from alerts.models.alerts import OPEN_STATUSES
from alerts.services.escalation import escalation_start, escalation_stop
from alerts.services.timeline import alert_event, incident_event

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


def _open_or_reopen(alert: Alert, rule: GroupingRule | None, key: str, now: datetime) -> Incident:
    incident = (
        Incident.objects.select_for_update()
        .filter(team_id=alert.team_id, group_key=key)
        .exclude(status=Incident.Status.RESOLVED)
        .first()
    )
    if incident:
        return incident
    window = rule.group_window if rule else GroupingRule._meta.get_field("group_window").default
    recent = (
        Incident.objects.select_for_update()
        .filter(team_id=alert.team_id, group_key=key, status=Incident.Status.RESOLVED, resolved_at__gte=now - window)
        .order_by("-resolved_at")
        .first()
    )
    if recent:
        recent.status, recent.resolved_at, recent.resolved_by, recent.time_to_resolve = "triggered", None, None, None
        recent.save()
        incident_event(recent, "reopened", actor_name="system", message=f"new alert within {window} of resolving")
        escalation_start(incident=recent, reason="incident reopened", now=now)
        return recent
    incident = Incident.objects.create(
        team_id=alert.team_id,
        service=alert.service,
        grouping_rule=rule,
        group_key=key,
        title=_title(alert),
        priority=priority_for(alert.severity, alert.service.criticality if alert.service_id else None),
        opened_at=now,
    )
    incident_event(incident, "triggered", actor_name="system", message=f"opened by alert: {alert.summary}")
    transaction.on_commit(lambda: _start_escalation_later(incident.pk))
    return incident


def _start_escalation_later(incident_id: int) -> None:
    """Start after commit, once the first alert is attached (routes match on its labels)."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().filter(pk=incident_id, status="triggered").first()
        if incident is not None and not incident.escalations.exists():
            escalation_start(incident=incident, reason="incident triggered")


def incident_attach(*, alert: Alert, now: datetime | None = None) -> Incident:
    """Put a firing alert into the open incident of its group (creating or reopening one)."""
    now = now or timezone.now()
    rule, key = group_key_for(alert)
    for _ in range(3):
        try:
            with transaction.atomic():
                incident = _open_or_reopen(alert, rule, key, now)
            break
        except IntegrityError:  # another process opened it first; take theirs
            continue
    alert.incident = incident
    alert.save(update_fields=["incident"])
    alert_event(alert, "grouped", actor_name="system", message=f"added to incident {incident.uid}")
    incident_event(incident, "alert_added", actor_name="system", message=alert.summary, alert=str(alert.uid))
    incident_refresh(incident=incident)
    return incident


def incident_refresh(*, incident: Incident, by=None, actor_name: str | None = None) -> Incident:
    """Derive priority and status from the alerts: resolved when all resolved, triggered when
    an unacknowledged alert fires again."""
    alerts = list(incident.alerts.all())
    open_alerts = [a for a in alerts if a.status in OPEN_STATUSES]
    fields = []
    if alerts:
        criticality = incident.service.criticality if incident.service_id else None
        priority = min(priority_for(a.severity, criticality) for a in (open_alerts or alerts))
        if priority != incident.priority:
            incident.priority = priority
            fields.append("priority")
    if alerts and not open_alerts and incident.status != Incident.Status.RESOLVED:
        _mark_resolved(incident, by=by, note="")
        incident_event(incident, "resolved", by=by, actor_name=actor_name or "system", message="all alerts resolved")
        fields += ["status", "resolved_at", "resolved_by", "time_to_resolve"]
    elif incident.status == Incident.Status.ACKNOWLEDGED and any(a.status == "firing" for a in open_alerts):
        incident.status = Incident.Status.TRIGGERED
        incident_event(incident, "retriggered", actor_name=actor_name or "system", message="an alert fired again")
        fields.append("status")
        escalation_start(incident=incident, reason="an alert fired again")
    if fields:
        incident.save(update_fields=fields)
        events.incident_changed(incident)
    return incident


def _forward_state(incident: Incident, action: str) -> None:
    """After commit: PagerDuty channels that were paged learn the new state (best effort)."""
    from alerts.tasks import forward_incident_state

    def enqueue() -> None:
        try:
            forward_incident_state.delay(incident.pk, action)
        except Exception:  # broker down: PagerDuty's own auto-resolve covers it
            return

    transaction.on_commit(enqueue)


def _mark_resolved(incident: Incident, *, by, note: str) -> None:
    escalation_stop(incident=incident, reason="incident resolved")
    _forward_state(incident, "resolve")
    now = timezone.now()
    incident.status, incident.resolved_at, incident.resolved_by = Incident.Status.RESOLVED, now, by
    incident.time_to_resolve = now - incident.opened_at
    if note:
        incident.resolution_note = note


@transaction.atomic
def incident_acknowledge(*, incident: Incident, by) -> Incident:
    from alerts.services.alerts import alert_acknowledge

    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status != Incident.Status.TRIGGERED:
        raise IncidentError(f"incident is {incident.status}, not triggered")
    now = timezone.now()
    incident.status, incident.acknowledged_at, incident.acknowledged_by = Incident.Status.ACKNOWLEDGED, now, by
    incident.time_to_acknowledge = incident.time_to_acknowledge or now - incident.opened_at
    incident.save()
    escalation_stop(incident=incident, reason=f"acknowledged by {by or 'token'}")
    _forward_state(incident, "acknowledge")
    incident_event(incident, "acknowledged", by=by)
    for alert in incident.alerts.filter(status="firing"):
        alert_acknowledge(alert=alert, by=by, via_incident=True)
    events.incident_changed(incident)
    return incident


@transaction.atomic
def incident_resolve(*, incident: Incident, by, note: str = "") -> Incident:
    from alerts.services.alerts import alert_resolve

    incident = Incident.objects.select_for_update(of=("self",)).select_related("team").get(pk=incident.pk)
    if incident.status == Incident.Status.RESOLVED:
        raise IncidentError("incident is already resolved")
    if incident.team.require_resolution_note and not note.strip():
        raise IncidentError("this team requires a resolution note", status=400)
    _mark_resolved(incident, by=by, note=note)
    incident.save()
    incident_event(incident, "resolved", by=by, message=note)
    for alert in incident.alerts.filter(status__in=OPEN_STATUSES):
        alert_resolve(alert=alert, by=by, reason="incident resolved", via_incident=True)
    events.incident_changed(incident)
    return incident


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
        _mark_resolved(source, by=by, note=f"merged into {target.uid}")
        source.save()
        incident_event(source, "merged", by=by, message=f"merged into {target.uid}", into=str(target.uid))
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
    return incident_refresh(incident=new, by=by)
