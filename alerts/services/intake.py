"""Alerts from the tools people already run: Alertmanager (webhook v4), PagerDuty Events v2 and a
generic JSON webhook. Validation first, then one transaction per payload (all-or-nothing)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from alerts.models import Alert, Integration
from alerts.models.alerts import OPEN_STATUSES
from alerts.services.alerts import Signal, alert_acknowledge, alert_raise, alert_resolve, fingerprint_for
from alerts.weblinks import http_url
from catalog.models import Service

AM_SEVERITY = {
    "critical": "critical",
    "page": "critical",
    "emergency": "critical",
    "high": "high",
    "error": "high",
    "major": "high",
    "warning": "medium",
    "warn": "medium",
    "medium": "medium",
    "minor": "low",
    "low": "low",
    "info": "info",
    "informational": "info",
    "none": "info",
}
PD_SEVERITY = {"critical": "critical", "error": "high", "warning": "medium", "info": "info"}


class PayloadError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class PayloadTooLarge(PayloadError):
    """More alerts in one payload than HIVEOPS_ALERTMANAGER_MAX_ALERTS (answered with 413)."""

    def __init__(self, field: str, count: int, limit: int) -> None:
        super().__init__([f"{field}: {count} alerts in one payload; at most {limit} (set max_alerts in Alertmanager)"])
        self.field, self.count, self.limit = field, count, limit


def _service_for(integration: Integration, labels: dict[str, str]) -> int | None:
    if integration.service_id:
        return integration.service_id
    slug = labels.get("service")
    if not slug:
        return None
    return Service.objects.filter(team_id=integration.team_id, slug=slug).values_list("id", flat=True).first()


def _services_by_slug(integration: Integration, slugs: set[str]) -> dict[str, int]:
    """The team's services named by `service` labels, in one query (all alerts share the answer)."""
    if integration.service_id or not slugs:
        return {}
    rows = Service.objects.filter(team_id=integration.team_id, slug__in=slugs).values_list("slug", "id")
    return dict(rows)


def _validate_alertmanager(payload: object) -> list[dict]:
    if not isinstance(payload, dict):
        raise PayloadError(["body must be a JSON object (Alertmanager webhook payload)"])
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError(["alerts: must be a list"])
    limit = settings.HIVEOPS_ALERTMANAGER_MAX_ALERTS
    if len(alerts) > limit:
        raise PayloadTooLarge("alerts", len(alerts), limit)
    errors = []
    for i, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            errors.append(f"alerts[{i}]: must be an object")
            continue
        if alert.get("status") not in ("firing", "resolved"):
            errors.append(f"alerts[{i}].status: must be firing or resolved")
        labels = alert.get("labels")
        if not isinstance(labels, dict) or not labels or not all(isinstance(v, str) for v in labels.values()):
            errors.append(f"alerts[{i}].labels: must be a non-empty object of strings")
        if not isinstance(alert.get("annotations", {}), dict):
            errors.append(f"alerts[{i}].annotations: must be an object")
    if errors:
        raise PayloadError(errors)
    return alerts


@dataclass
class IntakeResult:
    firing: int = 0
    resolved: int = 0


@transaction.atomic
def alertmanager_receive(*, integration: Integration, payload: object) -> IntakeResult:
    """Every alert of the payload, in order, in one transaction. Looked up once for all alerts:
    the services named by `service` labels, and which resolved alerts are open at all."""
    result = IntakeResult()
    items = [(item, dict(item["labels"])) for item in _validate_alertmanager(payload)]
    fingerprints = [fingerprint_for("alertmanager", integration.id, labels) for _, labels in items]
    services = _services_by_slug(integration, {labels["service"] for _, labels in items if labels.get("service")})
    resolving = {fp for (item, _), fp in zip(items, fingerprints, strict=True) if item["status"] == "resolved"}
    maybe_open = _open_fingerprints(integration.team_id, resolving)
    for (item, labels), fingerprint in zip(items, fingerprints, strict=True):
        if item["status"] == "resolved":
            # Read just before resolving (an alert raised earlier in the payload may have changed it).
            alert = _open_alert(integration.team_id, fingerprint) if fingerprint in maybe_open else None
            if alert is not None:
                ended = item.get("endsAt") or ""
                alert_resolve(alert=alert, actor_name=integration.name, reason=f"resolved by Alertmanager {ended}")
                result.resolved += 1
            continue
        service_id = integration.service_id or services.get(labels.get("service", ""))
        alert_raise(signal=_alertmanager_signal(integration, item, labels, fingerprint, service_id))
        maybe_open.add(fingerprint)
        result.firing += 1
    return result


def _open_fingerprints(team_id: int, fingerprints: set[str]) -> set[str]:
    if not fingerprints:
        return set()
    rows = Alert.objects.filter(team_id=team_id, fingerprint__in=fingerprints, status__in=OPEN_STATUSES)
    return set(rows.values_list("fingerprint", flat=True))


def _open_alert(team_id: int, fingerprint: str) -> Alert | None:
    return Alert.objects.filter(team_id=team_id, fingerprint=fingerprint, status__in=OPEN_STATUSES).first()


def _alertmanager_signal(
    integration: Integration, item: dict, labels: dict[str, str], fingerprint: str, service_id: int | None
) -> Signal:
    annotations = {k: str(v) for k, v in (item.get("annotations") or {}).items()}
    alertname = labels.get("alertname", "alert")
    return Signal(
        team_id=integration.team_id,
        source="alertmanager",
        fingerprint=fingerprint,
        labels=labels,
        severity=AM_SEVERITY.get(labels.get("severity", "").lower(), "high"),
        summary=annotations.get("summary") or annotations.get("message") or alertname,
        description=annotations.get("description", ""),
        runbook_url=http_url(annotations.get("runbook_url")),  # the raw text stays in annotations
        generator_url=http_url(item.get("generatorURL")),
        annotations=annotations,
        actor_name=integration.name,
        service_id=service_id,
        integration_id=integration.id,
        dedup_key=str(item.get("fingerprint") or ""),
    )


@dataclass
class PagerDutyEvent:
    action: str
    dedup_key: str
    generated: bool
    summary: str = ""
    source: str = ""
    severity: str = ""
    payload: dict | None = None


def validate_pagerduty(body: object) -> PagerDutyEvent:
    """PagerDuty Events API v2 rules; raises PayloadError listing every problem."""
    if not isinstance(body, dict):
        raise PayloadError(["Event object is invalid: body must be a JSON object"])
    errors = []
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    dedup_key = body.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup_key:
        errors.append("'dedup_key' is required for acknowledge and resolve events")
    payload = body.get("payload")
    if action == "trigger":
        if not isinstance(payload, dict):
            errors.append("'payload' is required for trigger events")
        else:
            for name in ("summary", "source", "severity"):
                if not isinstance(payload.get(name), str) or not payload.get(name):
                    errors.append(f"'payload.{name}' is missing or blank")
            if isinstance(payload.get("severity"), str) and payload["severity"] not in PD_SEVERITY:
                errors.append("'payload.severity' must be one of critical, error, warning, info")
            if isinstance(payload.get("summary"), str) and len(payload["summary"]) > 1024:
                errors.append("'payload.summary' must be at most 1024 characters")
    if errors:
        raise PayloadError(errors)
    generated = not dedup_key
    event = PagerDutyEvent(action=action, dedup_key=dedup_key or uuid.uuid4().hex, generated=generated)
    if action == "trigger":
        event.summary, event.source, event.severity = payload["summary"], payload["source"], payload["severity"]
        event.payload = payload
    return event


@transaction.atomic
def pagerduty_enqueue(*, integration: Integration, body: object) -> PagerDutyEvent:
    event = validate_pagerduty(body)
    fingerprint = fingerprint_for("pagerduty", integration.id, {"dedup_key": event.dedup_key})
    if event.action == "trigger":
        payload = event.payload or {}
        labels = {"source": event.source, "dedup_key": event.dedup_key}
        for name in ("component", "group", "class"):
            if isinstance(payload.get(name), str) and payload[name]:
                labels[name] = payload[name]
        details = payload.get("custom_details")
        alert_raise(
            signal=Signal(
                team_id=integration.team_id,
                source="pagerduty",
                fingerprint=fingerprint,
                labels=labels,
                severity=PD_SEVERITY[event.severity],
                summary=event.summary,
                actor_name=integration.name,
                service_id=_service_for(integration, labels),
                integration_id=integration.id,
                dedup_key=event.dedup_key,
                description=str(details) if details else "",
                annotations={"custom_details": details} if details else {},
                generator_url=_first_link(body),
            )
        )
        return event
    alert = _open_alert(integration.team_id, fingerprint)
    if alert is None:
        return event  # as PagerDuty: acknowledging or resolving an unknown key is accepted and ignored
    if event.action == "resolve":
        alert_resolve(alert=alert, actor_name=integration.name, reason="resolve event (PagerDuty Events v2)")
    elif alert.status in (Alert.Status.FIRING, Alert.Status.PENDING):
        alert_acknowledge(alert=alert, by=None)
    return event


def _first_link(body: dict) -> str:
    """client_url, else the first of `links` that is an http(s) URL (others are not links)."""
    links = body.get("links") if isinstance(body.get("links"), list) else []
    hrefs = [link.get("href") for link in links if isinstance(link, dict)]
    return next((url for url in map(http_url, [body.get("client_url"), *hrefs]) if url), "")


def _validate_webhook(body: object) -> dict:
    if not isinstance(body, dict):
        raise PayloadError(["body must be a JSON object"])
    errors = []
    if body.get("status", "firing") not in ("firing", "resolved"):
        errors.append("status: must be firing or resolved")
    if not isinstance(body.get("summary"), str) or not body.get("summary"):
        errors.append("summary: required string")
    if body.get("severity", "high") not in ("critical", "high", "medium", "low", "info"):
        errors.append("severity: must be critical, high, medium, low or info")
    labels = body.get("labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        errors.append("labels: must be an object of strings")
    if body.get("dedup_key") is not None and not isinstance(body.get("dedup_key"), str):
        errors.append("dedup_key: must be a string")
    if errors:
        raise PayloadError(errors)
    return body


@transaction.atomic
def webhook_receive(*, integration: Integration, body: object) -> Alert | None:
    """{"summary", "severity", "status": firing|resolved, "labels", "dedup_key", "description"}.
    Without a dedup_key, the labels and summary identify the alert."""
    body = _validate_webhook(body)
    labels = dict(body.get("labels") or {})
    key = body.get("dedup_key") or fingerprint_for("summary", 0, {**labels, "__summary": body["summary"]})
    fingerprint = fingerprint_for("webhook", integration.id, {"dedup_key": key})
    if body.get("status", "firing") == "resolved":
        alert = Alert.objects.filter(
            team_id=integration.team_id, fingerprint=fingerprint, status__in=OPEN_STATUSES
        ).first()
        return alert_resolve(alert=alert, actor_name=integration.name, reason="resolved by webhook") if alert else None
    return alert_raise(
        signal=Signal(
            team_id=integration.team_id,
            source="webhook",
            fingerprint=fingerprint,
            labels=labels,
            severity=body.get("severity", "high"),
            summary=body["summary"],
            description=str(body.get("description", "")),
            actor_name=integration.name,
            service_id=_service_for(integration, labels),
            integration_id=integration.id,
            dedup_key=key,
        )
    )
