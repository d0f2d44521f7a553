"""Rule evaluation end to end: samples in, alerts out (tasks run inline in tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
from django.core.exceptions import ValidationError

from alerts.models import Alert, RuleState
from alerts.services.rules import rule_backtest, rule_evaluate
from tests.alerts.factories import ingest, now_s, rule, service

pytestmark = pytest.mark.usefixtures("storage_clean")


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_a_breach_fires_on_ingest(team, django_capture_on_commit_callbacks):
    rule(team, critical_threshold=90, aggregation="last")
    ingest(team, "cpu", {"host": "a"}, [[now_s(), 50.0]])
    assert not Alert.objects.exists()
    ingest(team, "cpu", {"host": "a"}, [[now_s() + 1, 95.0]])
    alert = Alert.objects.get()
    assert (alert.status, alert.severity, alert.value) == ("firing", "critical", 95.0)
    assert alert.labels == {"host": "a", "alertname": "High CPU", "metric": "cpu"}
    assert alert.summary == "High CPU: cpu is 95"
    assert alert.incident is not None


def test_only_matching_series_alert(team):
    rule(team, matchers=[{"name": "host", "op": "=~", "value": "web-.*"}])
    ingest(team, "cpu", {"host": "db-1"}, [[now_s(), 99.0]])
    ingest(team, "cpu", {"host": "web-1"}, [[now_s(), 99.0]])
    assert list(Alert.objects.values_list("labels__host", flat=True)) == ["web-1"]


def test_warning_then_critical_then_recovery_with_hysteresis(team):
    r = rule(team, critical_threshold=90, warning_threshold=75, recovery_threshold=60, aggregation="last")
    t = now_s()
    ingest(team, "cpu", {"host": "a"}, [[t - 30, 80.0]])
    alert = Alert.objects.get()
    assert alert.severity == "medium"  # the warning severity
    ingest(team, "cpu", {"host": "a"}, [[t - 20, 95.0]])
    alert.refresh_from_db()
    assert alert.severity == "critical"
    ingest(team, "cpu", {"host": "a"}, [[t - 10, 70.0]])  # below warning, above recovery: still firing
    alert.refresh_from_db()
    assert alert.status == "firing"
    ingest(team, "cpu", {"host": "a"}, [[t, 55.0]])
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert RuleState.objects.get(rule=r).level == "ok"


def test_for_duration_keeps_the_alert_pending(team):
    t = now_s()
    ingest(team, "cpu", {"host": "a"}, [[t - 120, 95.0], [t, 96.0]])
    r = rule(team, for_duration=td(minutes=5), aggregation="max")
    rule_evaluate(rule=r, now=at(t - 119))
    alert = Alert.objects.get()
    assert alert.status == "pending"
    assert alert.incident is None  # pending alerts do not open incidents
    rule_evaluate(rule=r, now=at(t - 119 + 301))
    alert.refresh_from_db()
    assert alert.status == "firing"
    assert alert.incident is not None


def test_absence_rule_fires_when_data_stops(team):
    r = rule(team, name="heartbeat", kind="absence", absence_after=td(minutes=10), critical_threshold=None)
    t = now_s()
    ingest(team, "cpu", {"host": "a"}, [[t - 60, 1.0]])
    assert rule_evaluate(rule=r, now=at(t)).transitions == 0
    rule_evaluate(rule=r, now=at(t + 11 * 60))
    alert = Alert.objects.get()
    assert alert.summary.startswith("heartbeat")
    ingest(team, "cpu", {"host": "a"}, [[t, 1.0]])
    rule_evaluate(rule=r, now=at(t + 60))
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_absence_rule_without_any_series(team):
    r = rule(team, metric="never_sent", kind="absence", absence_after=td(minutes=5), critical_threshold=None)
    rule_evaluate(rule=r)
    assert Alert.objects.get().labels["metric"] == "never_sent"


def test_service_label_and_runbook_come_from_the_rule(team):
    checkout = service(team)
    rule(team, service=checkout, runbook_url="https://runbooks.example/cpu", summary_template="{{ labels.host }} hot")
    ingest(team, "cpu", {"host": "a"}, [[now_s(), 99.0]])
    alert = Alert.objects.get()
    assert (alert.service, alert.labels["service"], alert.runbook_url, alert.summary) == (
        checkout,
        "checkout",
        "https://runbooks.example/cpu",
        "a hot",
    )


def test_rule_validation_names_the_field(team):
    bad = rule(team)
    bad.critical_threshold = None
    with pytest.raises(ValidationError) as info:
        bad.full_clean()
    assert "critical_threshold" in info.value.message_dict
    bad.critical_threshold, bad.warning_threshold = 50, 80
    with pytest.raises(ValidationError) as info:
        bad.full_clean()
    assert "warning_threshold" in info.value.message_dict
    bad.kind = "telepathy"
    with pytest.raises(ValidationError) as info:
        bad.full_clean()
    assert "kind" in info.value.message_dict


def test_backtest_reports_what_would_have_fired(team):
    t = now_s() // 60 * 60
    # Two hours of 1-minute data with two breaches: 10 minutes and 5 minutes long.
    points = [[t - 7200 + 60 * i, 95.0 if 20 <= i < 30 or 80 <= i < 85 else 40.0] for i in range(120)]
    ingest(team, "cpu", {"host": "a"}, points)
    r = rule(team, critical_threshold=90, aggregation="last")
    result = rule_backtest(rule=r, days=1, now=at(t))
    assert result.count == 2
    assert [f.duration_s for f in result.firings] == [600.0, 300.0]
    assert [f.peak for f in result.firings] == [95.0, 95.0]
    r.for_duration = td(minutes=6)
    assert rule_backtest(rule=r, days=1, now=at(t)).count == 1  # `for` would have hidden the short one


def test_backtest_of_an_absence_rule(team):
    t = now_s() // 60 * 60
    points = [[t - 7200 + 60 * i, 1.0] for i in range(120) if not 30 <= i < 60]  # a 30-minute gap
    ingest(team, "cpu", {"host": "a"}, points)
    r = rule(team, kind="absence", absence_after=td(minutes=10), critical_threshold=None)
    result = rule_backtest(rule=r, days=1, now=at(t))
    # Before the first sample the series counts as absent too; the gap is the firing inside the data.
    gap = [f for f in result.firings if f.start > at(t - 7200)]
    assert len(gap) == 1
    assert gap[0].duration_s == pytest.approx(20 * 60, abs=60)
