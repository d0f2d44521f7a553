from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from core.teams.models import ApiToken, Membership
from metrics.demo import HOSTS, SERVICES, demo_series, in_incident, payload, value


def test_values_are_deterministic_and_plausible():
    series = demo_series()
    assert len(series) == len(SERVICES) * (len(HOSTS) * 3 + 3)
    ts = 1_800_000_000
    assert [value(s, ts) for s in series] == [value(s, ts) for s in series]
    for s in series:
        v = value(s, ts)
        assert v >= 0
        if s.unit == "percent":
            assert v <= 100


def test_incidents_happen_but_rarely():
    minutes = range(1_800_000_000, 1_800_000_000 + 14 * 86400, 60)
    share = sum(in_incident("checkout", ts) for ts in minutes) / len(minutes)
    assert 0.002 < share < 0.05


def test_payload_is_valid_ingest_json():
    from metrics.ingest import parse_json

    body = payload(demo_series(), [1_800_000_000, 1_800_000_060])
    import orjson

    batch = parse_json(orjson.dumps(body), max_points=1000, now_s=1_800_000_100)
    assert batch.points == 2 * len(demo_series())


def test_demo_setup_is_idempotent(db, settings, tmp_path):
    settings.RUN_DIR = tmp_path
    for _ in range(2):
        out = StringIO()
        call_command("demo_setup", stdout=out)
    assert "admin" in out.getvalue()
    assert Membership.objects.filter(user__username="admin", team__slug="demo").count() == 1
    assert ApiToken.objects.filter(revoked_at=None).count() == 1
    assert (tmp_path / "demo_token").read_text().startswith("hvo_")
    from alerts.models import AlertRule
    from catalog.models import Service
    from paging.models import EscalationPolicy

    assert AlertRule.objects.filter(team__slug="demo").count() == 6  # incl. an anomaly and a forecast-breach rule
    assert Service.objects.filter(team__slug="demo").count() == 3
    assert EscalationPolicy.objects.get(team__slug="demo").levels.count() == 1


def test_demo_incidents_breach_the_demo_rules():
    from datetime import timedelta as td

    from alerts.evaluation import CRITICAL, Thresholds, threshold_level

    ts = next(t for t in range(1_800_000_000, 1_800_000_000 + 7 * 86400, 60) if in_incident("checkout", t))
    latency = next(s for s in demo_series() if s.metric == "http_latency_p95" and s.labels["service"] == "checkout")
    assert threshold_level(value(latency, ts), Thresholds("gt", 400.0, 250.0, 200.0), "ok") == CRITICAL
    calm = ts + int(td(hours=6).total_seconds())
    assert value(latency, calm) < 400 or in_incident("checkout", calm)
