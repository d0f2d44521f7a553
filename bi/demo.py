"""Demo content for every page: metric history, SLOs with an SLA, capacity resources with a
scenario, an on-call rotation, incidents with a related change, and so recommendations.

`make run` calls it (through `manage.py demo_content`) after `demo_setup` created the team, the
admin and the services; the page-layout browser test calls it too, so what a newcomer sees is what
the test checks. It lives in bi because bi sits above every app it fills. Idempotent: things are
found by name and re-sent samples are duplicates.
"""

from __future__ import annotations

from datetime import time
from datetime import timedelta as td

import numpy as np
import orjson
from django.utils import timezone

from alerts.services.alerts import Signal, alert_raise, alert_resolve
from capacity.models import Resource, Scenario
from capacity.services import analyses_refresh
from catalog.models import Service
from forecasting.services.forecasts import forecasts_refresh
from insight.models import ChangeEvent
from insight.services import ChangeInput, change_event_record
from metrics.demo import demo_series, value
from metrics.ingest import parse_json
from metrics.models import Series
from metrics.services import rollups_refresh, samples_ingest
from paging.models import EscalationPolicy, OnCallRotation, RotationMember
from slo.models import SLA, SLO
from slo.services import slos_evaluate

RECENT_DAYS = 3  # every demo series, 5-minute steps
LONG_DAYS = 35  # the series behind SLOs and capacity: a full SLA report month and a capacity trend
LONG_METRICS = {"http_requests", "http_errors", "disk_used", "cpu_usage"}
SLO_DAYS = 8  # the SLOs' series minute by minute over their 7-day window (no gap minutes)
SLO_SERIES = {("http_requests", "checkout"), ("http_errors", "checkout"), ("http_latency_p95", "search")}


def history_ingest(*, team, now_s: int) -> int:
    """Samples of the simulated services (metrics.demo), as the demo data generator would have
    sent them: 5-minute points for a few days, 15-minute points for a month of the series that
    SLOs and capacity read. Returns the number of new points."""
    recent = np.arange(now_s - RECENT_DAYS * 86400, now_s, 300) // 300 * 300
    long = np.arange(now_s - LONG_DAYS * 86400, now_s, 900) // 900 * 900
    minutes = np.union1d(long, np.arange(now_s - SLO_DAYS * 86400, now_s, 60) // 60 * 60)
    accepted = 0
    for s in demo_series():
        stamps = long if s.metric in LONG_METRICS and s.labels.get("host", "a") == "a" else recent
        if (s.metric, s.labels["service"]) in SLO_SERIES:
            stamps = minutes
        points = [[int(t), value(s, int(t))] for t in stamps]
        body = {"series": [{"metric": s.metric, "labels": s.labels, "points": points}]}
        accepted += samples_ingest(team_id=team.id, batch=parse_json(orjson.dumps(body), max_points=100_000)).accepted
    for _ in rollups_refresh():
        pass
    # Forecasts of the request-path series now (the scheduler refreshes them every 15 minutes).
    ids = list(Series.objects.filter(team=team, metric__startswith="http_").values_list("id", flat=True))
    forecasts_refresh(series_ids=ids, now=timezone.now())
    return accepted


def slos_ensure(*, team) -> list[SLA]:
    """Checkout availability (errors against requests) with a customer SLA, and a latency SLO."""
    checkout = Service.objects.filter(team=team, slug="checkout").first()
    where = [{"name": "service", "op": "=", "value": "checkout"}]
    availability, _ = SLO.objects.get_or_create(
        team=team,
        name="Checkout availability",
        defaults={
            "service": checkout,
            "description": "Share of checkout requests that did not fail.",
            "sli_kind": SLO.Kind.RATIO,
            "total_metric": "http_requests",
            "total_matchers": where,
            "bad_metric": "http_errors",
            "bad_matchers": where,
            "counter_type": SLO.CounterType.DELTA,
            "objective": 99.0,
            "window": SLO.Window.D7,
        },
    )
    SLO.objects.get_or_create(
        team=team,
        name="Search latency",
        defaults={
            "service": Service.objects.filter(team=team, slug="search").first(),
            "description": "Minutes in which search answered within 300 ms (p95).",
            "sli_kind": SLO.Kind.THRESHOLD,
            "metric": "http_latency_p95",
            "matchers": [{"name": "service", "op": "=", "value": "search"}],
            "bound_op": SLO.Bound.LTE,
            "bound": 300.0,
            "objective": 95.0,
            "window": SLO.Window.D28,
        },
    )
    sla, _ = SLA.objects.get_or_create(
        team=team,
        name="Checkout gold",
        defaults={
            "slo": availability,
            "customer": "ACME Retail",
            "target": 99.5,
            "monthly_fee": "12000.00",
            "currency": "EUR",
            "credit_tiers": [{"below": 99.5, "credit_percent": 10}, {"below": 99.0, "credit_percent": 25}],
            "stakeholders": "cfo@acme.localhost",
        },
    )
    return [sla]


def capacity_ensure(*, team, now) -> list[Resource]:
    """Checkout's disk (filling up) and CPU (oversized), with two what-if scenarios."""
    rows = [
        ("checkout disk (host a)", "disk_used", Resource.Kind.DISK, {"allocation": 500, "unit_cost": "0.10"}),
        ("checkout CPU (host a)", "cpu_usage", Resource.Kind.CPU, {"allocation": 8, "unit_cost": "25.00"}),
    ]
    resources = []
    for name, metric, kind, extra in rows:
        series = Series.objects.filter(team=team, metric=metric, labels={"service": "checkout", "host": "a"}).first()
        resource, _ = Resource.objects.get_or_create(
            team=team,
            name=name,
            defaults={"series": series, "kind": kind, "scope": "host", "scope_name": "checkout-a", **extra},
        )
        resources.append(resource)
    peak = {"event_date": (now + td(days=20)).date(), "event_days": 3, "event_multiplier": 1.6}
    Scenario.objects.get_or_create(team=team, name="Black Friday", defaults=peak)
    Scenario.objects.get_or_create(team=team, name="Growth 10 % a month", defaults={"growth_pct_per_month": 10})
    analyses_refresh(resources=resources, now=now)
    return resources


def rotation_ensure(*, team, user) -> OnCallRotation:
    """A weekly rotation paged by the demo policy's first level; it starts next week, so the
    recommendations page has a coverage gap to point at."""
    rotation, created = OnCallRotation.objects.get_or_create(
        team=team,
        name="Primary on-call",
        defaults={"length": OnCallRotation.Length.WEEKLY, "handoff_time": time(9), "start_date": timezone.localdate()},
    )
    if created:
        RotationMember.objects.create(rotation=rotation, user=user, position=0)
    policy = EscalationPolicy.objects.filter(team=team).order_by("id").first()
    level = policy.levels.order_by("position", "id").first() if policy else None
    if level is not None and level.rotation_id is None:
        level.rotation = rotation
        level.save(update_fields=["rotation"])
    return rotation


def incidents_ensure(*, team, user, now) -> None:
    """A deploy, then a resolved checkout incident an hour later and an open one now, so the
    console, the incident page and its "related changes" have something to show."""
    checkout = Service.objects.filter(team=team, slug="checkout").first()
    if not ChangeEvent.objects.filter(team=team, summary__startswith="Deploy checkout").exists():
        change = ChangeInput(
            summary="Deploy checkout v2.14 (new payment form)",
            at=now - td(hours=5),
            source="ci",
            service=checkout,
            labels={"service": "checkout"},
        )
        change_event_record(team_id=team.id, change=change, via=ChangeEvent.Via.API)
    for key, summary, hours_ago, resolved in [
        ("demo-errors", "checkout errors at 31/s after the deploy", 4, True),
        ("demo-latency", "p95 latency of checkout is 520 ms", 0.5, False),
    ]:
        signal = Signal(
            team_id=team.id,
            source="demo",
            fingerprint=key,
            labels={"alertname": key, "service": "checkout"},
            severity="high",
            summary=summary,
            service_id=checkout.id if checkout else None,
            at=now - td(hours=hours_ago),
        )
        alert = alert_raise(signal=signal)
        if resolved and alert.status != "resolved":
            alert_resolve(alert=alert, by=user)


def demo_content_create(*, team, user, now=None) -> dict:
    """Everything above, in the order the pages need it. Returns counts for the command's output."""
    now = now or timezone.now()
    points = history_ingest(team=team, now_s=int(now.timestamp()))
    slas = slos_ensure(team=team)
    slos_evaluate(now=now, slo_ids=list(SLO.objects.filter(team=team).values_list("id", flat=True)))
    resources = capacity_ensure(team=team, now=now)
    rotation_ensure(team=team, user=user)
    incidents_ensure(team=team, user=user, now=now)
    return {"points": points, "slas": len(slas), "resources": len(resources)}
