"""The alert list's rows, built straight from the page's values.

DRF's AlertSerializer on model instances took most of a 100-alert page's time in-process: model
instances for the alert and its three joins, field objects per value, and DateTimeField's
time-zone handling (about 40 µs per datetime); far more than the page's SQL (docs/architecture.md,
"Hot paths: where the time goes"). This reads plain values (`.values(*LIST_VALUES)`) and builds
the same JSON: the same keys in the same order and the same datetime format as DRF's
(ISO 8601 in UTC with "Z"). tests/alerts/test_api_pagination.py compares it with AlertSerializer.
"""

from __future__ import annotations

from datetime import UTC

from alerts.models.alerts import OPEN_STATUSES

LIST_VALUES = (
    "id",
    "uid",
    "status",
    "muted",
    "flapping",
    "severity",
    "summary",
    "source",
    "service__slug",
    "incident__uid",
    "labels",
    "value",
    "occurrences",
    "first_seen",
    "last_seen",
    "fired_at",
    "acknowledged_at",
    "resolved_at",
    "assignee__username",
)


def _when(value):
    """As rest_framework.fields.DateTimeField shows an aware datetime with TIME_ZONE = "UTC"."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def alert_row(v: dict) -> dict:
    """One alert (a `.values(*LIST_VALUES)` row) as AlertSerializer shows it."""
    incident = v["incident__uid"]
    muted = v["muted"]
    return {
        "id": str(v["uid"]),
        "status": v["status"],
        "display_status": muted if muted and v["status"] in OPEN_STATUSES else v["status"],
        "muted": muted,
        "flapping": v["flapping"],
        "severity": v["severity"],
        "summary": v["summary"],
        "source": v["source"],
        "service": v["service__slug"],
        "incident": None if incident is None else str(incident),
        "labels": v["labels"],
        "value": None if v["value"] is None else float(v["value"]),
        "occurrences": v["occurrences"],
        "first_seen": _when(v["first_seen"]),
        "last_seen": _when(v["last_seen"]),
        "fired_at": _when(v["fired_at"]),
        "acknowledged_at": _when(v["acknowledged_at"]),
        "resolved_at": _when(v["resolved_at"]),
        "assignee": v["assignee__username"],
    }


def alert_rows(rows) -> list[dict]:
    return [alert_row(v) for v in rows]
