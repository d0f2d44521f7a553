"""Alert lifecycle: dedup, transitions with a timeline, flapping, silences, inhibition, maintenance."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.utils import timezone

from alerts.models import Alert, InhibitionRule, MaintenanceWindow, Silence
from alerts.services import alerts as svc
from alerts.services.muting import muting_refresh_team, silence_create
from tests.alerts.factories import raise_alert, service


def kinds(alert: Alert) -> list[str]:
    return list(alert.events.values_list("kind", flat=True))


def test_same_fingerprint_is_one_alert_with_occurrences(team):
    first = raise_alert(team)
    again = raise_alert(team)
    assert first.pk == again.pk
    again.refresh_from_db()
    assert again.occurrences == 2
    assert Alert.objects.count() == 1
    assert kinds(again)[0] == "firing"


def test_lifecycle_is_recorded_in_the_timeline(team, alice):
    alert = raise_alert(team)
    svc.alert_acknowledge(alert=alert, by=alice)
    svc.alert_unacknowledge(alert=alert, by=alice)
    svc.alert_note(alert=alert, by=alice, text="looking at it")
    svc.alert_resolve(alert=alert, by=alice, reason="fixed")
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert alert.resolved_by == alice
    assert kinds(alert) == ["firing", "grouped", "acknowledged", "unacknowledged", "note", "resolved"]
    note = alert.events.get(kind="note")
    assert (note.actor, note.actor_name, note.message) == (alice, "alice", "looking at it")


def test_invalid_transitions_are_refused(team, alice):
    alert = raise_alert(team)
    with pytest.raises(svc.AlertError):
        svc.alert_unacknowledge(alert=alert, by=alice)
    svc.alert_resolve(alert=alert, by=alice)
    with pytest.raises(svc.AlertError):
        svc.alert_acknowledge(alert=alert, by=alice)


def test_reopen_after_resolve(team, alice, settings):
    settings.HIVEOPS_FLAP_WINDOW_MINUTES = 0
    alert = raise_alert(team)
    svc.alert_resolve(alert=alert, by=alice)
    svc.alert_reopen(alert=alert, by=alice)
    alert.refresh_from_db()
    assert alert.status == "firing"
    assert alert.incident.status == "triggered"


def test_a_breach_soon_after_resolving_reopens_the_same_alert(team):
    alert = raise_alert(team)
    svc.alert_resolve(alert=alert, actor_name="rule")
    again = raise_alert(team)
    assert again.pk == alert.pk
    assert kinds(again)[-2:] == ["reopened", "grouped"]  # back in an open incident (the resolved one reopened)
    assert again.incident.status == "triggered"


def test_flapping_is_marked_once(team, settings):
    settings.HIVEOPS_FLAP_TRANSITIONS = 4
    alert = raise_alert(team)
    for _ in range(3):
        svc.alert_resolve(alert=alert, actor_name="rule")
        alert = raise_alert(team)
    alert.refresh_from_db()
    assert alert.flapping
    assert kinds(alert).count("flapping") == 1
    assert svc.alerts_settle_flapping(now=timezone.now() + td(hours=1)) == 1
    alert.refresh_from_db()
    assert not alert.flapping


def test_silence_mutes_matching_alerts_and_expires_with_the_alert(team, alice):
    alert = raise_alert(team)
    silence = silence_create(
        team=team,
        matchers=[{"name": "host", "op": "=", "value": "a"}],
        ends_at=timezone.now() + td(hours=1),
        comment="deploy",
        by=alice,
        expire_on_resolve=True,
        for_alert=alert,
    )
    alert.refresh_from_db()
    assert (alert.muted, alert.silence) == ("silenced", silence)
    assert alert.display_status == "silenced"
    other = raise_alert(team, labels={"alertname": "DiskFull", "host": "b"})
    assert other.muted == ""
    svc.alert_resolve(alert=alert, by=alice)
    silence.refresh_from_db()
    assert silence.expired_at is not None


def test_silence_expiry_unmutes(team):
    alert = raise_alert(team)
    Silence.objects.create(
        team=team,
        matchers=[{"name": "host", "op": "=~", "value": "a|b"}],
        comment="x",
        ends_at=timezone.now() + td(minutes=5),
    )
    muting_refresh_team(team_id=team.id)
    alert.refresh_from_db()
    assert alert.muted == "silenced"
    muting_refresh_team(team_id=team.id, now=timezone.now() + td(minutes=6))
    alert.refresh_from_db()
    assert alert.muted == ""
    assert "unsilenced" in kinds(alert)


def test_inhibition_follows_alertmanager(team, django_capture_on_commit_callbacks):
    InhibitionRule.objects.create(
        team=team,
        name="node down hides its disk alerts",
        source_matchers=[{"name": "alertname", "op": "=", "value": "NodeDown"}],
        target_matchers=[{"name": "alertname", "op": "=", "value": "DiskFull"}],
        equal=["host"],
    )
    source = raise_alert(team, labels={"alertname": "NodeDown", "host": "a"})
    target = raise_alert(team, labels={"alertname": "DiskFull", "host": "a"})
    elsewhere = raise_alert(team, labels={"alertname": "DiskFull", "host": "b"})
    assert target.muted == "suppressed"
    assert elsewhere.muted == ""
    with django_capture_on_commit_callbacks(execute=True):  # the refresh task is enqueued after commit
        svc.alert_resolve(alert=source, actor_name="test")
    target.refresh_from_db()
    assert target.muted == ""


def test_maintenance_window_mutes_the_service(team):
    checkout = service(team)
    MaintenanceWindow.objects.create(
        service=checkout, name="patching", starts_at=timezone.now() - td(minutes=5), duration=td(hours=1)
    )
    alert = raise_alert(team, service_id=checkout.id)
    assert alert.muted == "maintenance"


def test_recurring_weekly_maintenance_in_a_time_zone(team):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    window = MaintenanceWindow(
        service=service(team),
        name="Sunday patch",
        recurrence="weekly",
        weekdays=[6],
        timezone="Europe/Berlin",
        starts_at=datetime(2026, 1, 4, 2, 0, tzinfo=berlin),
        duration=td(hours=2),
    )
    assert window.is_active(datetime(2026, 7, 5, 3, 0, tzinfo=berlin))  # a Sunday in summer time, 03:00 local
    assert not window.is_active(datetime(2026, 7, 6, 3, 0, tzinfo=berlin))  # Monday
    assert not window.is_active(datetime(2026, 7, 5, 4, 30, tzinfo=berlin))


def test_silence_create_refuses_unbounded_and_unconfirmed_team_wide_silences(team, settings):
    from django.core.exceptions import ValidationError

    settings.HIVEOPS_SILENCE_MAX_DAYS = 7
    specific = [{"name": "host", "op": "=", "value": "a"}]
    with pytest.raises(ValidationError) as too_long:
        silence_create(team=team, matchers=specific, ends_at=timezone.now() + td(days=8), comment="x")
    assert "ends_at" in too_long.value.message_dict
    match_all = [{"name": "host", "op": "=~", "value": ".*"}]
    with pytest.raises(ValidationError) as unconfirmed:
        silence_create(team=team, matchers=match_all, ends_at=timezone.now() + td(hours=1), comment="x")
    assert "confirm_team_wide" in unconfirmed.value.message_dict
    assert not Silence.objects.exists()
    silence_create(
        team=team, matchers=match_all, ends_at=timezone.now() + td(hours=1), comment="x", confirm_team_wide=True
    )
    assert Silence.objects.count() == 1
