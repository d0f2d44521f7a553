"""The incident state machine.

    triggered ──acknowledge──> acknowledged
        ↑  ↖──────retrigger────────┘
        │                           │
      reopen      resolve (from triggered or acknowledged)
        │                           v
        └────────────────────── resolved

Every transition writes the incident's timeline event and announces itself through
`alerts.signals.incident_changed` in the same transaction; the paging app listens.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from alerts import events
from alerts.machines import Machine
from alerts.models import Incident
from alerts.services.timeline import incident_event
from alerts.signals import incident_changed

TRIGGERED, ACKNOWLEDGED, RESOLVED = "triggered", "acknowledged", "resolved"

MACHINE = Machine(
    name="incident",
    states=(TRIGGERED, ACKNOWLEDGED, RESOLVED),
    transitions={
        (TRIGGERED, "acknowledge"): ACKNOWLEDGED,
        (TRIGGERED, "resolve"): RESOLVED,
        (ACKNOWLEDGED, "retrigger"): TRIGGERED,
        (ACKNOWLEDGED, "resolve"): RESOLVED,
        (RESOLVED, "reopen"): TRIGGERED,
    },
)

EVENT_KIND = {"acknowledge": "acknowledged", "resolve": "resolved", "retrigger": "retriggered", "reopen": "reopened"}


def apply(
    incident: Incident,
    event: str,
    *,
    by=None,
    actor_name: str | None = None,
    at: datetime | None = None,
    message: str = "",
    note: str = "",
    channel: str = "",
    silent: bool = False,
    **data,
) -> Incident:
    """Move a (locked) incident along `event`, save it, write the timeline and announce it."""
    target = MACHINE.next_state(incident.status, event)
    at = at or timezone.now()
    incident.status = target
    if target == ACKNOWLEDGED:
        incident.acknowledged_at, incident.acknowledged_by = at, by
        incident.time_to_acknowledge = incident.time_to_acknowledge or at - incident.opened_at
    if target == RESOLVED:
        incident.resolved_at, incident.resolved_by = at, by
        incident.time_to_resolve = at - incident.opened_at
        if note:
            incident.resolution_note = note
    if target == TRIGGERED:
        incident.acknowledged_at = incident.acknowledged_by = None
        incident.resolved_at = incident.resolved_by = incident.time_to_resolve = None
    incident.save()
    if channel:
        data["channel"] = channel
        message = message or f"via {channel}"
    incident_event(incident, EVENT_KIND[event], by=by, actor_name=actor_name, message=message, **data)
    if not silent:  # the caller announces once the incident is complete (its alert attached)
        announce(incident, event, by=by, channel=channel)
    return incident


def opened(incident: Incident, *, message: str) -> None:
    """A new incident starts in `triggered`: its first timeline event (announced once its first
    alert is attached, so paging routes on that alert)."""
    incident_event(incident, "triggered", actor_name="system", message=message)


def announce(incident: Incident, event: str, *, by=None, channel: str = "") -> None:
    incident_changed.send(sender=Incident, incident=incident, event=event, by=by, channel=channel)
    events.incident_changed(incident)
