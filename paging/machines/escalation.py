"""The escalation state machine. An escalation is one paging episode of an incident.

    (created) ──> active ──finish──> finished   (all levels and repeats done)
                    │ ├───stop─────> stopped    (acknowledged, resolved)
                    │ ├───pause────> paused     (every firing alert muted or snoozed)
                    │ └───unroute──> unrouted   (no route matches the incident)

Leaving `active` always takes a new fence, so every queued step of the episode becomes a no-op.
A new episode (re-trigger, reopen, unmute) is a new escalation row.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.utils import timezone

from alerts.machines import Machine
from paging.models import Escalation, EscalationLog

ACTIVE, PAUSED, STOPPED, FINISHED, UNROUTED = "active", "paused", "stopped", "finished", "unrouted"

MACHINE = Machine(
    name="escalation",
    states=(ACTIVE, PAUSED, STOPPED, FINISHED, UNROUTED),
    transitions={
        (ACTIVE, "stop"): STOPPED,
        (ACTIVE, "pause"): PAUSED,
        (ACTIVE, "finish"): FINISHED,
        (ACTIVE, "unroute"): UNROUTED,
    },
)


def log(escalation: Escalation, action: str, detail: str = "", level: int | None = None) -> None:
    EscalationLog.objects.create(
        escalation=escalation, action=action, detail=detail[:2000], level=level, cycle=escalation.cycle
    )


def apply(escalation: Escalation, event: str, *, reason: str, at: datetime | None = None) -> Escalation:
    """End a (locked) active escalation: new state, reason, a fresh fence, one log line."""
    escalation.state = MACHINE.next_state(escalation.state, event)
    escalation.stopped_at = at or timezone.now()
    escalation.stop_reason = reason[:200]
    escalation.fence = uuid.uuid4()
    escalation.save(update_fields=["state", "stopped_at", "stop_reason", "fence"])
    log(escalation, {"stop": "stopped", "pause": "paused", "finish": "finished", "unroute": "unrouted"}[event], reason)
    return escalation
