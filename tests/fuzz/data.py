"""A team with a little of everything, so API operations that take an id have real objects to hit.

`team_data` returns the ids to try per collection, keyed by the path segment before the id
(`/api/v1/alerts/{id}` -> "alerts"), as strings the way they appear in URLs. `integration_keys`
returns the Bearer key for each alert-intake path (they authenticate an integration, not a token).
"""

from __future__ import annotations

from datetime import date, time
from datetime import timedelta as td

from django.utils import timezone

from alerts.models import Incident, Silence
from alerts.services.integrations import integration_create
from forecasting.models import Anomaly, Feedback, Forecast, ForecastModel, PointScore
from metrics.models import Series
from paging.models import (
    EscalationPolicy,
    EscalationRoute,
    Notification,
    NotificationChannel,
    OnCallRotation,
    RotationMember,
)
from tests.alerts.factories import ingest, now_s, raise_alert, rule, service
from tests.slo.slo_factories import sla, slo


def _series(team) -> list[Series]:
    end = now_s() // 60 * 60
    for host, base in (("a", 40.0), ("b", 70.0)):
        points = [[end - (119 - i) * 60, base + (i % 7)] for i in range(120)]
        ingest(team, "cpu", {"service": "checkout", "host": host}, points)
    ingest(team, "http_requests_total", {"service": "checkout"}, [[end - 60 * i, 1000.0 - i] for i in range(60)])
    return list(Series.objects.filter(team=team).order_by("id"))


def _forecasting(team, series: Series, user) -> tuple[list[Anomaly], list[Feedback]]:
    now = timezone.now()
    PointScore.objects.create(series=series, ts=now, score=0.95, expected=50.0, lower=40.0, upper=60.0)
    anomalies = [
        Anomaly.objects.create(
            team=team, series=series, ts=now - td(minutes=m), value=140.0, score=0.95, kind="spike", expected=50.0
        )
        for m in (1, 2)
    ]
    ForecastModel.objects.create(series=series, model="theta", backtest={"theta": {"mase": 0.8, "smape": 4.0}})
    Forecast.objects.create(
        series=series,
        kind="short",
        model="theta",
        start=now,
        step_s=300,
        mean=[1.0, 2.0],
        lo80=[0.5, 1.0],
        hi80=[1.5, 3.0],
        lo95=[0.0, 0.5],
        hi95=[2.0, 4.0],
    )
    feedback = [Feedback.objects.create(team=team, series=series, anomaly=anomalies[1], kind="spike", created_by=user)]
    return anomalies, feedback


def _escalation(team, user, incident: Incident) -> dict[str, list[str]]:
    channel = NotificationChannel.objects.create(
        team=team, kind="webhook", name="hook", config={"url": "http://127.0.0.1:9/"}
    )
    policy = EscalationPolicy.objects.create(team=team, name="primary")
    route = EscalationRoute.objects.create(team=team, policy=policy, is_default=True)
    rotation = OnCallRotation.objects.create(
        team=team, name="primary", length="weekly", handoff_time=time(9, 0), start_date=date(2026, 1, 5)
    )
    RotationMember.objects.create(rotation=rotation, user=user, position=0)
    notification = Notification.objects.create(
        incident=incident, channel=channel, kind="webhook", target="http://127.0.0.1:9/", dedup_key="fuzz-1"
    )
    return {
        "escalation-policies": [str(policy.pk)],
        "escalation-routes": [str(route.pk)],
        "rotations": [str(rotation.pk)],
        "notifications": [str(notification.pk)],
    }


def team_data(team, user) -> dict[str, list[str]]:
    series = _series(team)
    checkout = service(team)
    service(team, slug="search")
    alerts = [
        raise_alert(team, labels={"alertname": "CPU", "host": "a"}, severity="critical", service_id=checkout.id),
        raise_alert(team, labels={"alertname": "Disk", "host": "b"}, severity="low", summary="disk slow"),
        raise_alert(team, labels={"alertname": "Mem", "host": "c"}, severity="high", service_id=checkout.id),
    ]
    incidents = list(Incident.objects.filter(team=team).order_by("id"))
    rules = [rule(team), rule(team, name="Absent CPU", kind="absence", critical_threshold=None)]
    silence = Silence.objects.create(
        team=team, matchers=[{"name": "host", "op": "=", "value": "z"}], ends_at=timezone.now() + td(hours=1)
    )
    objective = slo(team, service=checkout)
    contract = sla(team, objective)
    anomalies, feedback = _forecasting(team, series[0], user)
    return {
        "series": [str(s.uid) for s in series],
        "services": [str(checkout.uid)],
        "alerts": [str(a.uid) for a in alerts],
        "incidents": [str(i.uid) for i in incidents],
        "rules": [str(r.uid) for r in rules],
        "silences": [str(silence.uid)],
        "slos": [str(objective.uid)],
        "slas": [str(contract.uid)],
        "anomalies": [str(a.id) for a in anomalies],
        "anomaly-feedback": [str(f.id) for f in feedback],
        **_escalation(team, user, incidents[0]),
    }


def integration_keys(team) -> dict[str, str]:
    return {
        f"/api/v1/integrations/{kind}": integration_create(team=team, kind=kind, name=kind)[1]
        for kind in ("alertmanager", "webhook")
    }
