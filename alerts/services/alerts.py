"""The alert lifecycle: raise (dedup by fingerprint), acknowledge, resolve, reopen, notes, assignment."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timedelta as td

import orjson
from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from psycopg.errors import DeadlockDetected

from alerts import events
from alerts.machines import alert as machine
from alerts.models import Alert, AlertEvent, Incident
from alerts.models.alerts import OPEN_STATUSES
from alerts.services.incidents import incident_attach, incident_refresh
from alerts.services.muting import alert_refresh_muting
from alerts.services.timeline import alert_event
from catalog.models import Service
from core.queue import enqueue

FLAP_KINDS = ("firing", "resolved", "reopened")


class AlertError(ValueError):
    """A refused alert action; the message says why."""


def fingerprint_for(source: str, scope: object, labels: dict[str, str]) -> str:
    canonical = orjson.dumps(labels, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{source}:{scope}:".encode() + canonical).hexdigest()


@dataclass
class Signal:
    """What a source says about one alert (rule evaluation, Alertmanager, PagerDuty, webhook)."""

    team_id: int
    source: str
    fingerprint: str
    labels: dict[str, str]
    severity: str
    summary: str
    status: str = Alert.Status.FIRING  # or pending
    actor_name: str = "system"
    service_id: int | None = None
    rule_id: int | None = None
    integration_id: int | None = None
    series_id: int | None = None
    description: str = ""
    runbook_url: str = ""
    generator_url: str = ""
    annotations: dict = field(default_factory=dict)
    value: float | None = None
    dedup_key: str = ""
    at: datetime | None = None


def alert_raise(*, signal: Signal) -> Alert:
    """Open or update the one open alert of a fingerprint. Safe under concurrency: the partial
    unique index makes a racing second insert fail, and the retry updates the winner's alert."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _raise(signal)
        except IntegrityError:  # a racing raise won: the retry updates its alert
            if attempt == 2:
                raise
        except OperationalError as exc:  # chosen as a deadlock victim: the retry usually goes through
            if attempt == 2 or not isinstance(exc.__cause__, DeadlockDetected):
                raise
    raise AssertionError("unreachable")


def _lock_incident_of(alerts) -> None:
    """Lock order everywhere is incident, then alert (as incident_acknowledge and incident_resolve
    take them), so a raise or a hand action never deadlocks with an incident action."""
    incident_id = alerts.values_list("incident_id", flat=True).first()
    if incident_id is not None:
        list(Incident.objects.select_for_update().filter(pk=incident_id).values_list("pk", flat=True))


def _raise(signal: Signal) -> Alert:
    now = signal.at or timezone.now()
    _lock_incident_of(
        Alert.objects.filter(team_id=signal.team_id, fingerprint=signal.fingerprint, status__in=OPEN_STATUSES)
    )
    alert = (
        Alert.objects.select_for_update()
        .filter(team_id=signal.team_id, fingerprint=signal.fingerprint, status__in=OPEN_STATUSES)
        .first()
    )
    if alert is not None:
        _update(alert, signal, now)
    else:
        alert = _reopen_recent(signal, now) or _create(signal, now)
    _check_flapping(alert, now)
    alert_refresh_muting(alert=alert, now=now)
    if alert.status != Alert.Status.PENDING:
        if alert.incident_id is not None and alert.incident.status == "resolved":
            alert.incident = None  # its incident was closed meanwhile: it goes to an open one
        if alert.incident_id is None:
            incident_attach(alert=alert, now=now)
        else:
            incident_refresh(incident=alert.incident)
    events.alert_changed(alert)
    return alert


def _update(alert: Alert, signal: Signal, now: datetime) -> None:
    alert.occurrences += 1
    alert.last_seen, alert.value = now, signal.value
    if signal.severity != alert.severity:
        alert_event(
            alert, "severity_changed", actor_name=signal.actor_name, message=f"{alert.severity} → {signal.severity}"
        )
        alert.severity = signal.severity
    alert.summary = signal.summary[:1024]
    if alert.service_id is None:
        alert.service_id = service_for(signal)
    alert.save()
    if alert.status == Alert.Status.PENDING and signal.status == Alert.Status.FIRING:
        machine.apply(alert, "fire", actor_name=signal.actor_name, at=now, message=signal.summary, value=signal.value)


def _reopen_recent(signal: Signal, now: datetime) -> Alert | None:
    """A breach soon after a resolve reopens that alert (one history; flap detection counts it)."""
    window = td(minutes=settings.HIVEOPS_FLAP_WINDOW_MINUTES)
    alert = (
        Alert.objects.select_for_update()
        .filter(
            team_id=signal.team_id,
            fingerprint=signal.fingerprint,
            status=Alert.Status.RESOLVED,
            resolved_at__gte=now - window,
        )
        .order_by("-resolved_at")
        .first()
    )
    if alert is None:
        return None
    alert.occurrences += 1
    alert.last_seen, alert.value, alert.severity = now, signal.value, signal.severity
    event = "refire" if signal.status == Alert.Status.FIRING else "rearm"
    machine.apply(alert, event, actor_name=signal.actor_name, at=now, message=signal.summary, value=signal.value)
    return alert


def service_for(signal: Signal) -> int | None:
    """The alert's service: the one its source names, else the team's service whose slug (or
    name) is the `service` label."""
    if signal.service_id is not None:
        return signal.service_id
    label = (signal.labels.get("service") or "").strip()
    if not label:
        return None
    found = Service.objects.filter(team_id=signal.team_id).filter(Q(slug=label) | Q(name__iexact=label))
    return found.values_list("id", flat=True).first()


def _create(signal: Signal, now: datetime) -> Alert:
    alert = Alert.objects.create(
        team_id=signal.team_id,
        source=signal.source,
        fingerprint=signal.fingerprint,
        dedup_key=signal.dedup_key,
        status=signal.status,
        severity=signal.severity,
        summary=signal.summary[:1024],
        description=signal.description,
        runbook_url=signal.runbook_url[:1024],
        generator_url=signal.generator_url[:1024],
        labels=signal.labels,
        annotations=signal.annotations,
        value=signal.value,
        service_id=service_for(signal),
        rule_id=signal.rule_id,
        integration_id=signal.integration_id,
        series_id=signal.series_id,
        first_seen=now,
        last_seen=now,
        fired_at=now if signal.status == Alert.Status.FIRING else None,
    )
    alert_event(alert, signal.status, actor_name=signal.actor_name, message=signal.summary, value=signal.value)
    return alert


def _check_flapping(alert: Alert, now: datetime) -> None:
    window = td(minutes=settings.HIVEOPS_FLAP_WINDOW_MINUTES)
    transitions = AlertEvent.objects.filter(alert=alert, kind__in=FLAP_KINDS, at__gte=now - window).count()
    if not alert.flapping and transitions >= settings.HIVEOPS_FLAP_TRANSITIONS:
        alert.flapping = True
        alert.save(update_fields=["flapping"])
        alert_event(
            alert,
            "flapping",
            actor_name="system",
            message=f"{transitions} state changes in {window}; notifying once until it settles",
        )


def alerts_settle_flapping(*, now: datetime | None = None) -> int:
    """Clear the flapping mark of alerts with no state change for a whole flap window."""
    now = now or timezone.now()
    window = td(minutes=settings.HIVEOPS_FLAP_WINDOW_MINUTES)
    settled = 0
    for alert in Alert.objects.filter(flapping=True):
        if not AlertEvent.objects.filter(alert=alert, kind__in=FLAP_KINDS, at__gte=now - window).exists():
            with transaction.atomic():
                if Alert.objects.filter(pk=alert.pk, flapping=True).update(flapping=False):
                    alert_event(alert, "flap_settled", actor_name="system", message=f"stable for {window}")
                    settled += 1
    return settled


def _locked(alert: Alert) -> Alert:
    _lock_incident_of(Alert.objects.filter(pk=alert.pk))
    return Alert.objects.select_for_update(of=("self",)).select_related("service", "incident").get(pk=alert.pk)


def _transition(alert: Alert, event: str, *, by, actor_name: str | None, message: str = "", channel: str = "") -> Alert:
    """Apply an alert event by hand, then let the incident follow (one direction: alert -> incident)."""
    alert = _locked(alert)
    if not machine.MACHINE.allows(alert.status, event):
        raise AlertError(str(_refusal(alert, event)))
    extra = {"channel": channel} if channel else {}
    machine.apply(alert, event, by=by, actor_name=actor_name, message=message, **extra)
    if alert.incident_id:
        if alert.incident.status == "resolved" and alert.is_open:
            alert.incident = None
            alert.save(update_fields=["incident"])
            incident_attach(alert=alert)
        else:
            incident_refresh(incident=alert.incident, by=by, actor_name=actor_name, channel=channel)
    elif alert.status == Alert.Status.FIRING:
        incident_attach(alert=alert)
    events.alert_changed(alert)
    return alert


def _refusal(alert: Alert, event: str) -> str:
    if event == "acknowledge":
        return f"alert is {alert.status}; only firing or pending alerts can be acknowledged"
    if event == "unacknowledge":
        return f"alert is {alert.status}, not acknowledged"
    return f"alert is {alert.status}, not resolved"


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by, actor_name: str | None = None, channel: str = "") -> Alert:
    return _transition(alert, "acknowledge", by=by, actor_name=actor_name, channel=channel)


@transaction.atomic
def alert_unacknowledge(*, alert: Alert, by, actor_name: str | None = None) -> Alert:
    return _transition(alert, "unacknowledge", by=by, actor_name=actor_name)


@transaction.atomic
def alert_resolve(
    *, alert: Alert, by=None, actor_name: str | None = None, reason: str = "", channel: str = ""
) -> Alert:
    """Resolve (twice is harmless: retries, Alertmanager repeats). A rule alert resolved by hand
    while its rule still breaches fires again at the next evaluation; snooze keeps it quiet."""
    if Alert.objects.filter(pk=alert.pk, status=Alert.Status.RESOLVED).exists():
        return alert
    alert = _transition(alert, "resolve", by=by, actor_name=actor_name, message=reason, channel=channel)
    transaction.on_commit(lambda: _refresh_team_muting(alert.team_id))
    return alert


def _refresh_team_muting(team_id: int) -> None:
    """An inhibiting alert resolving may unmute others; done by a task, best effort (the
    housekeeping run refreshes muting every minute anyway)."""
    enqueue("alerts.tasks.refresh_muting", team_id)


@transaction.atomic
def alert_reopen(*, alert: Alert, by, actor_name: str | None = None) -> Alert:
    locked = _locked(alert)
    if locked.status == Alert.Status.RESOLVED and (
        Alert.objects.filter(team_id=locked.team_id, fingerprint=locked.fingerprint, status__in=OPEN_STATUSES)
        .exclude(pk=locked.pk)
        .exists()
    ):
        raise AlertError("another open alert has the same fingerprint")
    return _transition(locked, "reopen", by=by, actor_name=actor_name)


@transaction.atomic
def alert_note(*, alert: Alert, by, text: str, actor_name: str | None = None) -> None:
    if not text.strip():
        raise AlertError("a note needs text")
    alert_event(alert, "note", by=by, actor_name=actor_name, message=text)


@transaction.atomic
def alert_assign(*, alert: Alert, by, assignee, actor_name: str | None = None) -> Alert:
    alert = _locked(alert)
    alert.assignee = assignee
    alert.save(update_fields=["assignee"])
    alert_event(
        alert, "assigned", by=by, actor_name=actor_name, message=assignee.get_username() if assignee else "unassigned"
    )
    events.alert_changed(alert)
    return alert
