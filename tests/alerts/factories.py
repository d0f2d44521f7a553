"""Small builders for alert tests."""

from __future__ import annotations

import time
from datetime import timedelta as td

import orjson

from alerts.models import AlertRule
from alerts.services.alerts import Signal, alert_raise, fingerprint_for
from catalog.models import Service
from metrics.ingest import parse_json
from metrics.services import samples_ingest


def service(team, slug="checkout", **kw) -> Service:
    return Service.objects.create(team=team, name=slug.title(), slug=slug, **kw)


def signal(team, labels=None, severity="critical", summary="disk full", **kw) -> Signal:
    labels = labels or {"alertname": "DiskFull", "host": "a"}
    return Signal(
        team_id=team.id,
        source="test",
        fingerprint=fingerprint_for("test", 0, labels),
        labels=labels,
        severity=severity,
        summary=summary,
        **kw,
    )


def raise_alert(team, **kw):
    return alert_raise(signal=signal(team, **kw))


def rule(team, **kw) -> AlertRule:
    defaults = {
        "name": "High CPU",
        "metric": "cpu",
        "critical_threshold": 90.0,
        "window": td(minutes=5),
        "aggregation": "last",
    }
    return AlertRule.objects.create(team=team, **{**defaults, **kw})


def ingest(team, metric: str, labels: dict, points: list[list[float]]):
    body = {"series": [{"metric": metric, "labels": labels, "points": points}]}
    return samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps(body), max_points=100_000))


def now_s() -> int:
    return int(time.time())
