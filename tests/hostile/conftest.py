"""Shared pieces of the hostile-input suite: raw bodies, row counts, and clients for each intake."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from alerts.services.integrations import integration_create

# Tables a rejected request must leave untouched (nothing half-written).
COUNTED_TABLES = (
    "metrics_series",
    "metrics_sample",
    "alerts_alert",
    "alerts_incident",
    "insight_changeevent",
    "alerts_silence",
)


def deep_json(levels: int = 5000) -> bytes:
    return b"[" * levels + b"]" * levels


def deep_object(levels: int = 5000) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in COUNTED_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def post_raw(client: APIClient, path: str, body: bytes, key: str | None = None, **extra):
    if key:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.post(path, data=body, content_type="application/json", **extra)


@pytest.fixture
def keys(team) -> dict[str, str]:
    """Integration keys per intake kind."""
    return {
        kind: integration_create(team=team, kind=kind, name=f"hostile {kind}")[1]
        for kind in ("alertmanager", "webhook", "pagerduty")
    }
