"""Writes of the insight app: recording change events (PagerDuty Change Events and the generic API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from alerts.services.intake import PayloadError
from catalog.selectors import service_by_slug
from core.timeparse import ParamError, rfc3339
from insight.models import ChangeEvent

if TYPE_CHECKING:
    from alerts.models import Integration
    from catalog.models import Service

MAX_SUMMARY = 1024
MAX_LINKS = 20


@dataclass
class ChangeInput:
    summary: str
    at: datetime
    source: str = ""
    service: Service | None = None
    labels: dict[str, str] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    details: dict = field(default_factory=dict)


def change_event_record(*, team_id: int, change: ChangeInput, via: str, integration=None) -> ChangeEvent:
    return ChangeEvent.objects.create(
        team_id=team_id,
        service=change.service,
        integration=integration,
        via=via,
        summary=change.summary[:MAX_SUMMARY],
        source=change.source[:255],
        at=change.at,
        labels=change.labels,
        links=change.links,
        details=change.details,
    )


def pagerduty_change_enqueue(*, integration: Integration, body: object) -> ChangeEvent:
    """A PagerDuty Change Events API body: {routing_key, payload: {summary, timestamp, source,
    custom_details}, links: [{href, text}]}. Raises PayloadError listing every problem."""
    change = _validate_pagerduty_change(body, integration)
    return change_event_record(
        team_id=integration.team_id, change=change, via=ChangeEvent.Via.PAGERDUTY, integration=integration
    )


def _validate_pagerduty_change(body: object, integration: Integration) -> ChangeInput:
    if not isinstance(body, dict):
        raise PayloadError(["body must be a JSON object"])
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise PayloadError(["'payload' is missing or not an object"])
    errors = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("'payload.summary' is missing or blank")
    elif len(summary) > MAX_SUMMARY:
        errors.append(f"'payload.summary' is longer than {MAX_SUMMARY} characters")
    at = timezone.now()
    if payload.get("timestamp") is not None:
        at = _parse_timestamp(payload["timestamp"])
        if at is None:
            errors.append("'payload.timestamp' must be an ISO 8601 time with a time zone, years 1970..2099")
    source = payload.get("source", "")
    if not isinstance(source, str):
        errors.append("'payload.source' must be a string")
    details = payload.get("custom_details", {})
    if details is None:
        details = {}
    if not isinstance(details, dict):
        errors.append("'payload.custom_details' must be an object")
    links = links_validate(body.get("links", []), "links", errors)
    if errors:
        raise PayloadError(errors)
    service = integration.service
    if service is None and isinstance(details.get("service"), str):
        service = service_by_slug(team_id=integration.team_id, slug=details["service"])
    return ChangeInput(summary=summary.strip(), at=at, source=source, service=service, links=links, details=details)


def links_validate(raw: object, name: str, errors: list[str]) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_LINKS:
        errors.append(f"'{name}' must be a list of at most {MAX_LINKS} {{href, text}} objects")
        return []
    links = []
    for i, link in enumerate(raw):
        href = link.get("href") if isinstance(link, dict) else None
        if not isinstance(href, str) or not href.startswith(("http://", "https://")):
            errors.append(f"'{name}[{i}].href' must be an http(s) URL")
            continue
        text = link.get("text", "")
        links.append({"href": href[:2048], "text": str(text)[:255]})
    return links


def _parse_timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromtimestamp(rfc3339(value, "payload.timestamp"), UTC)
    except ParamError:
        return None
