"""Escalation policies, routes, rotations and the delivery log over the API; the one-tap ack link."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from datetime import timedelta as td

import pytest
import time_machine
from django.core import signing
from rest_framework.test import APIClient

from alerts.models import Incident
from alerts.services.alerts import alert_unacknowledge
from core.teams.models import Membership
from paging.links import ack_token
from paging.models import (
    Escalation,
    EscalationPolicy,
    Notification,
    NotificationChannel,
    OnCallRotation,
    RotationMember,
    RotationOverride,
)
from tests.alerts.factories import raise_alert


def login(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_policy_crud_with_levels(alice, team):
    channel = NotificationChannel.objects.create(team=team, kind="webhook", name="hook", config={"url": "http://x"})
    client = login(alice)
    body = {
        "name": "primary",
        "repeat": 2,
        "levels": [
            {"position": 1, "wait": "00:05:00", "users": ["alice"]},
            {"position": 2, "wait": "00:10:00", "channels": [str(channel.uid)], "strategy": "round_robin"},
        ],
    }
    created = client.post("/api/v1/escalation-policies", body, format="json")
    assert created.status_code == 201, created.content
    policy = EscalationPolicy.objects.get()
    assert [lvl.wait for lvl in policy.levels.all()] == [td(minutes=5), td(minutes=10)]
    assert list(policy.levels.first().users.values_list("username", flat=True)) == ["alice"]
    bad = client.post(
        "/api/v1/escalation-policies", {**body, "levels": [{"position": 1, "wait": "00:00:10"}]}, format="json"
    )
    assert bad.status_code == 400
    assert "wait" in str(bad.json())
    updated = client.put(
        f"/api/v1/escalation-policies/{policy.pk}", {**body, "levels": body["levels"][:1]}, format="json"
    )
    assert updated.status_code == 200
    assert policy.levels.count() == 1


def test_policy_levels_cannot_target_another_teams_channel(alice, other_team):
    foreign = NotificationChannel.objects.create(team=other_team, kind="webhook", name="theirs", config={})
    body = {"name": "p", "levels": [{"position": 1, "wait": "00:05:00", "channels": [str(foreign.uid)]}]}
    assert login(alice).post("/api/v1/escalation-policies", body, format="json").status_code == 400


def test_who_is_on_call(alice, bob, team):
    rotation = OnCallRotation.objects.create(
        team=team,
        name="primary",
        length="weekly",
        handoff_time=time(9, 0),
        timezone="Europe/Berlin",
        start_date=date(2026, 3, 2),
    )
    from django.contrib.auth import get_user_model

    carol = get_user_model().objects.create_user("carol")
    RotationMember.objects.create(rotation=rotation, user=alice, position=0)
    RotationMember.objects.create(rotation=rotation, user=carol, position=1)
    client = login(alice)
    url = f"/api/v1/rotations/{rotation.pk}/on-call"
    assert client.get(url + "?at=2026-03-03T12:00:00%2B01:00").json()["on_call"]["user"] == "alice"
    assert client.get(url + "?at=2026-03-09T09:30:00%2B01:00").json()["on_call"]["user"] == "carol"
    # Handoffs follow local time across the DST change (29 March 2026 in Berlin).
    assert client.get(url + "?at=2026-03-30T08:30:00%2B02:00").json()["on_call"]["user"] == "carol"
    assert client.get(url + "?at=2026-03-30T09:30:00%2B02:00").json()["on_call"]["user"] == "alice"
    RotationOverride.objects.create(
        rotation=rotation,
        user=carol,
        starts_at=datetime(2026, 3, 3, tzinfo=UTC),
        ends_at=datetime(2026, 3, 4, tzinfo=UTC),
    )
    body = client.get(url + "?at=2026-03-03T12:00:00Z").json()
    assert body["on_call"] == {
        "user": "carol",
        "start": "2026-03-03T00:00:00Z",
        "end": "2026-03-04T00:00:00Z",
        "override": True,
    }
    before = client.get(url + "?at=2026-02-20T12:00:00Z").json()
    assert before["on_call"] is None
    assert before["gaps"][0]["start"] == "2026-02-20T12:00:00Z"  # nobody before the rotation starts
    assert client.get(url + "?at=tomorrow").status_code == 400


def test_other_teams_see_no_rotations_or_policies(bob, team):
    OnCallRotation.objects.create(team=team, name="primary")
    client = login(bob)
    assert client.get("/api/v1/rotations").json()["count"] == 0
    assert client.get("/api/v1/escalation-policies").json()["count"] == 0


def _paged(team, user):
    """An incident whose escalation sent `user` an email; returns (incident, that delivery)."""
    incident = raise_alert(team).incident
    escalation = Escalation.objects.filter(incident=incident).first()
    notification = Notification.objects.create(
        incident=incident, escalation=escalation, user=user, kind="email", target="a@x", dedup_key=f"t{incident.pk}"
    )
    return incident, notification


class TestAckLink:
    def test_get_shows_a_button_and_post_acknowledges(self, client, team, alice):
        incident, notification = _paged(team, alice)
        url = f"/ack/{ack_token(notification_id=notification.pk)}"
        page = client.get(url)
        assert page.status_code == 200
        assert b'id="ack"' in page.content
        assert Incident.objects.get(pk=incident.pk).status == "triggered"  # a GET changes nothing
        done = client.post(url)
        assert b"Acknowledged" in done.content
        incident.refresh_from_db()
        assert (incident.status, incident.acknowledged_by) == ("acknowledged", alice)
        event = incident.events.get(kind="acknowledged")
        assert (event.actor, event.actor_name, event.data["channel"]) == (alice, "alice", "email link")
        assert b"Already acknowledged by alice" in client.get(url).content

    def test_bad_and_expired_links(self, client, team, alice):
        incident, notification = _paged(team, alice)
        assert client.get("/ack/forged").status_code == 400
        with time_machine.travel(datetime.now(UTC) - td(days=2)):
            old = ack_token(notification_id=notification.pk)
        assert client.post(f"/ack/{old}").status_code == 410
        incident.refresh_from_db()
        assert incident.status == "triggered"

    def test_the_link_allows_nothing_else(self, client, team, alice):
        _, notification = _paged(team, alice)
        token = ack_token(notification_id=notification.pk)
        with pytest.raises(signing.BadSignature):
            signing.TimestampSigner(salt="other").unsign_object(token)
        assert client.get("/api/v1/incidents", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401

    def test_a_deactivated_person_is_refused(self, client, team, alice):
        incident, notification = _paged(team, alice)
        alice.is_active = False
        alice.save()
        page = client.post(f"/ack/{ack_token(notification_id=notification.pk)}")
        assert page.status_code == 403
        assert b"deactivated" in page.content
        assert Incident.objects.get(pk=incident.pk).status == "triggered"

    def test_a_person_no_longer_in_the_team_is_refused(self, client, team, alice):
        incident, notification = _paged(team, alice)
        Membership.objects.filter(user=alice, team=team).delete()
        page = client.post(f"/ack/{ack_token(notification_id=notification.pk)}")
        assert page.status_code == 403
        assert b"no longer in the team" in page.content
        assert Incident.objects.get(pk=incident.pk).status == "triggered"

    def test_a_link_of_an_earlier_episode_is_refused_after_a_retrigger(self, client, team, alice):
        incident, old = _paged(team, alice)
        url = f"/ack/{ack_token(notification_id=old.pk)}"
        assert client.post(url).status_code == 200  # acknowledged through the first page
        alert = incident.alerts.get()
        alert_unacknowledge(alert=alert, by=None)  # fires again: a new episode, new links
        incident.refresh_from_db()
        assert incident.status == "triggered"
        page = client.post(url)
        assert page.status_code == 410
        assert b"earlier page" in page.content
        assert Incident.objects.get(pk=incident.pk).status == "triggered"

    def test_a_channel_link_needs_a_login_and_acts_as_that_person(self, client, team, alice):
        incident = raise_alert(team).incident
        notification = Notification.objects.create(
            incident=incident, escalation=incident.escalations.first(), kind="slack", target="#ops", dedup_key="c1"
        )
        url = f"/ack/{ack_token(notification_id=notification.pk)}"
        assert client.post(url).status_code == 302  # to the login page
        assert Incident.objects.get(pk=incident.pk).status == "triggered"
        client.force_login(alice)
        assert client.post(url).status_code == 200
        incident.refresh_from_db()
        assert incident.acknowledged_by == alice

    def test_snooze_from_the_link_pauses_paging(self, client, team, alice):
        incident, notification = _paged(team, alice)
        page = client.post(f"/ack/{ack_token(notification_id=notification.pk)}", {"snooze": "1h"})
        assert b"Snoozed 1 alert(s) 1 h" in page.content
        alert = incident.alerts.get()
        assert alert.muted == "snoozed"
        assert not Escalation.objects.filter(incident=incident, state="active").exists()
        assert Escalation.objects.filter(incident=incident).first().state == "paused"


def test_oncall_page_shows_who_and_gaps(client, alice, team):
    rotation = OnCallRotation.objects.create(
        team=team, name="primary", length="daily", handoff_time=time(9, 0), start_date=date(2026, 3, 2)
    )
    RotationMember.objects.create(rotation=rotation, user=alice)
    client.force_login(alice)
    page = client.get("/oncall/?at=2026-03-03T10:00").content.decode()
    assert "primary" in page
    assert "<strong>alice</strong> until Wed 04 Mar 09:00" in page
    before = client.get("/oncall/?at=2026-02-25T10:00").content.decode()
    assert "Nobody is on call." in before
    assert "Coverage gaps" in before
