from __future__ import annotations

from alerts.models import Alert, AlertEvent, Incident, IncidentEvent


def actor_label(by, actor_name: str | None) -> str:
    if actor_name:
        return actor_name
    return by.get_username() if by is not None else "system"


def alert_event(alert: Alert, kind: str, *, by=None, actor_name: str | None = None, message="", **data) -> None:
    AlertEvent.objects.create(
        alert=alert, kind=kind, actor=by, actor_name=actor_label(by, actor_name), message=message, data=data
    )


def incident_event(
    incident: Incident, kind: str, *, by=None, actor_name: str | None = None, message="", **data
) -> None:
    IncidentEvent.objects.create(
        incident=incident, kind=kind, actor=by, actor_name=actor_label(by, actor_name), message=message, data=data
    )
