"""The `capacity` rule kind through the alerting core, and the weekly digest over real SMTP."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from alerts.models import Alert
from alerts.services.rules import rule_evaluate
from capacity import services
from capacity.digest import digests_send, due_week
from capacity.models import Analysis, DigestRun
from core.teams.models import Membership
from tests.alerts.factories import rule
from tests.capacity.factories import _no_detection_on_ingest, hourly_series, resource  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def disk(storage_clean, team):
    r = resource(team, hourly_series(team, level=70, per_day=3))  # full in ~10 days
    services.analyses_refresh(resources=[r])
    return r


def capacity_rule(team, **params):
    return rule(team, name="Disk will fill", kind="capacity", metric="disk_used", params=params)


def test_it_fires_when_exhaustion_is_within_n_days_and_explains(disk, team):
    r = capacity_rule(team, within_days=14)
    assert rule_evaluate(rule=r).transitions == 1
    alert = Alert.objects.get(team=team)
    assert alert.status == "firing"
    assert alert.summary.startswith("db1 disk (Disk) will be full in ")
    assert 7 < float(alert.annotations["time_to_exhaustion_p50_days"]) < 13
    assert alert.annotations["resource"] == str(disk.uid)
    assert "capacity exhausted within 14 days" in alert.annotations["condition"]


def test_it_stays_quiet_when_exhaustion_is_further_away(disk, team):
    r = capacity_rule(team, within_days=3, warning_days=5)
    rule_evaluate(rule=r)
    assert not Alert.objects.filter(team=team).exists()


def test_it_resolves_when_the_resource_is_resized(disk, team):
    r = capacity_rule(team, within_days=14)
    rule_evaluate(rule=r)
    disk.limit_mode, disk.limit = "absolute", 1000.0
    disk.save()
    services.analyses_refresh(resources=[disk])
    rule_evaluate(rule=r)
    assert Alert.objects.get(team=team).status == "resolved"


def test_a_stale_analysis_holds_the_state(disk, team):
    Analysis.objects.filter(resource=disk).update(computed_at=datetime(2020, 1, 1, tzinfo=UTC))
    r = capacity_rule(team, within_days=14)
    assert rule_evaluate(rule=r).transitions == 0


@pytest.mark.parametrize(
    "params",
    [{"within_days": 0}, {"within_days": 400}, {"within_days": 7, "warning_days": 5}, {"quantile": "p99"}],
)
def test_rule_validation_names_params(team, params):
    with pytest.raises(ValidationError) as error:
        capacity_rule(team, **params).clean()
    assert "params" in error.value.message_dict


def test_weekly_digest_goes_to_owners_and_leads(disk, team, alice, bob, django_user_model, smtp_peer, settings):
    alice.email = "alice@example.com"
    alice.save()
    lead = django_user_model.objects.create_user("lead", email="lead@example.com")
    Membership.objects.create(team=team, user=lead, role="manager")
    bob.email = "bob@example.com"  # another team: never gets ours
    bob.save()
    disk.owner = alice
    disk.save()
    monday = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
    assert due_week(datetime(2030, 3, 4, 7, 0, tzinfo=UTC)) is None  # before 08:00 on Monday
    assert digests_send(now=monday) == 1
    assert digests_send(now=monday) == 0  # once a week
    [envelope] = smtp_peer.messages
    assert sorted(envelope.rcpt_tos) == ["alice@example.com", "lead@example.com"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "Capacity digest for Ops: 1 at risk" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "db1 disk" in body
    assert "scale out" in body
    assert "range confidence " in body  # issue 22: how far the date can be trusted, and why
    html = message.get_body(("html",)).get_content()
    assert "range confidence" in html
    assert DigestRun.objects.get(team=team).recipients == ["alice@example.com", "lead@example.com"]


def test_digest_retries_after_an_smtp_failure(disk, team, alice, settings):
    alice.email = "alice@example.com"
    alice.save()
    disk.owner = alice
    disk.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    monday = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
    assert digests_send(now=monday) == 0
    run = DigestRun.objects.get(team=team)
    assert run.sent_at is None
    assert run.error
