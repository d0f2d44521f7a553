"""The delivery log: retries with backoff, permanent failures, storm control and digests."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.utils import timezone

from alerts.models import Alert
from paging.models import Notification, NotificationChannel
from paging.services.delivery import channel_test, digests_send, notification_deliver
from paging.transports.base import PermanentError
from tests.alerts.factories import raise_alert


@pytest.fixture
def channel(team, http_peer):
    return NotificationChannel.objects.create(team=team, kind="webhook", name="hook", config={"url": http_peer.url})


def notification(incident, channel, key="n1") -> Notification:
    return Notification.objects.create(
        incident=incident, channel=channel, kind=channel.kind, target=channel.name, dedup_key=key
    )


def test_transient_errors_retry_with_backoff_then_succeed(team, channel, http_peer):
    incident = raise_alert(team).incident
    n = notification(incident, channel)
    http_peer.statuses = [503, 503]
    now = timezone.now()
    assert notification_deliver(notification_id=n.pk, now=now) == "retry in 5 s"
    assert notification_deliver(notification_id=n.pk, now=now + td(seconds=1)) == "not due or already handled"
    assert notification_deliver(notification_id=n.pk, now=now + td(seconds=6)) == "retry in 10 s"
    assert notification_deliver(notification_id=n.pk, now=now + td(seconds=20)) == "sent"
    n.refresh_from_db()
    assert (n.status, n.attempts, n.error) == ("sent", 3, "")
    assert n.duration_ms is not None
    assert len(http_peer.received) == 3


def test_a_permanent_error_marks_the_channel_failing_and_raises_an_internal_alert(team, channel, http_peer):
    incident = raise_alert(team).incident
    n = notification(incident, channel)
    http_peer.statuses = [404]
    assert notification_deliver(notification_id=n.pk) == "failed"
    channel.refresh_from_db()
    assert channel.failing_since is not None
    assert "HTTP 404" in channel.last_error
    internal = Alert.objects.get(labels__alertname="NotificationChannelFailing")
    assert internal.labels["channel"] == "hook"
    n.refresh_from_db()
    assert n.status == "failed"


def test_giving_up_after_max_attempts(team, channel, http_peer, settings):
    settings.HIVEOPS_DELIVERY_MAX_ATTEMPTS = 2
    incident = raise_alert(team).incident
    n = notification(incident, channel)
    http_peer.statuses = [500, 500]
    now = timezone.now()
    notification_deliver(notification_id=n.pk, now=now)
    assert notification_deliver(notification_id=n.pk, now=now + td(minutes=1)) == "failed"
    n.refresh_from_db()
    assert n.error.startswith("gave up after 2 attempts")


def test_nothing_is_sent_for_an_acknowledged_incident(team, alice, channel, http_peer):
    from alerts.services.incidents import incident_acknowledge

    incident = raise_alert(team).incident
    n = notification(incident, channel)
    incident_acknowledge(incident=incident, by=alice)
    n.refresh_from_db()
    assert n.status == "cancelled"  # cancelled by the acknowledgement itself
    assert notification_deliver(notification_id=n.pk) == "not due or already handled"
    assert http_peer.received == []


def test_storm_control_sends_a_digest(team, http_peer, settings):
    settings.HIVEOPS_STORM_LIMIT_PER_MINUTE = 3
    channel = NotificationChannel.objects.create(team=team, kind="slack", name="#ops", config={"url": http_peer.url})
    incidents = [raise_alert(team, labels={"alertname": f"A{i}"}).incident for i in range(6)]
    results = [
        notification_deliver(notification_id=notification(inc, channel, f"k{i}").pk) for i, inc in enumerate(incidents)
    ]
    assert results == ["sent"] * 3 + ["queued for digest"] * 3
    assert digests_send() == 1
    assert len(http_peer.received) == 4
    digest = http_peer.received[-1].json()
    assert digest["text"].startswith("[P")
    assert "3 incident(s)" in digest["text"]
    assert digest["blocks"][0]["text"]["text"].count("• ") == 3
    assert Notification.objects.filter(status="digested").count() == 3


def test_machine_receivers_are_not_storm_controlled(team, channel, http_peer, settings):
    settings.HIVEOPS_STORM_LIMIT_PER_MINUTE = 1
    incidents = [raise_alert(team, labels={"alertname": f"A{i}"}).incident for i in range(3)]
    results = [
        notification_deliver(notification_id=notification(inc, channel, f"k{i}").pk) for i, inc in enumerate(incidents)
    ]
    assert results == ["sent"] * 3


def test_send_test_notification(team, channel, http_peer):
    channel_test(channel=channel)
    assert http_peer.received[0].json()["incident"]["title"].startswith("Test notification")
    http_peer.statuses = [410]
    with pytest.raises(PermanentError):
        channel_test(channel=channel)


def test_admin_send_test_action(admin_client, channel, http_peer):
    response = admin_client.post(
        "/admin/paging/notificationchannel/", {"action": "send_test", "_selected_action": [channel.pk]}, follow=True
    )
    assert "test notification sent" in response.content.decode()
    assert len(http_peer.received) == 1


def test_pagerduty_channels_hear_about_acknowledge_and_resolve(
    team, alice, http_peer, django_capture_on_commit_callbacks
):
    from alerts.services.incidents import incident_acknowledge, incident_resolve

    pd = NotificationChannel.objects.create(
        team=team, kind="pagerduty", name="pd", config={"routing_key": "R" * 32, "url": http_peer.url}
    )
    incident = raise_alert(team).incident
    assert notification_deliver(notification_id=notification(incident, pd).pk) == "sent"
    with django_capture_on_commit_callbacks(execute=True):
        incident_acknowledge(incident=incident, by=alice)
    with django_capture_on_commit_callbacks(execute=True):
        incident_resolve(incident=incident, by=alice)
    actions = [(r.json()["event_action"], r.json()["dedup_key"]) for r in http_peer.received]
    assert actions == [
        ("trigger", str(incident.uid)),
        ("acknowledge", str(incident.uid)),
        ("resolve", str(incident.uid)),
    ]
