"""Typed live events for the operator console, published after the transaction commits."""

from __future__ import annotations

from typing import Literal, TypedDict

from django.db import transaction

from core.live import publish


class AlertChanged(TypedDict):
    type: Literal["alert.changed"]
    id: str
    status: str
    severity: str
    summary: str
    service: str | None
    incident: str | None


class IncidentChanged(TypedDict):
    type: Literal["incident.changed"]
    id: str
    status: str
    priority: int
    title: str


def alert_changed(alert) -> None:
    event: AlertChanged = {
        "type": "alert.changed",
        "id": str(alert.uid),
        "status": alert.display_status,
        "severity": alert.severity,
        "summary": alert.summary,
        "service": alert.service.slug if alert.service_id else None,
        "incident": str(alert.incident.uid) if alert.incident_id else None,
    }
    transaction.on_commit(lambda: publish(alert.team_id, event))


def incident_changed(incident) -> None:
    event: IncidentChanged = {
        "type": "incident.changed",
        "id": str(incident.uid),
        "status": incident.status,
        "priority": incident.effective_priority,
        "title": incident.title,
    }
    transaction.on_commit(lambda: publish(incident.team_id, event))
