"""The operator console and the incident page: the owner sees their team's alerts and incidents,
a member of another team and an outsider see none of them, anonymous users are sent to log in."""

from __future__ import annotations

import pytest
from django.test import Client

from alerts.models import Alert, Incident
from paging.links import incident_url
from tests.alerts.factories import raise_alert, service


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alerts(team):
    checkout = service(team)
    return [
        raise_alert(
            team,
            labels={"alertname": "CPU", "host": "a"},
            severity="critical",
            summary="cpu hot",
            service_id=checkout.id,
        ),
        raise_alert(team, labels={"alertname": "Disk", "host": "b"}, severity="low", summary="disk slow"),
    ]


def test_the_console_shows_counts_incidents_alerts_and_health(alice, alerts):
    body = login(alice).get("/console/").content.decode()
    assert "cpu hot" in body
    assert "disk slow" in body
    assert '<a class="count sev-critical" href="?severity=critical" data-count="critical"><b>1</b> critical</a>' in body
    assert 'class="tile sev-critical"' in body  # checkout's worst open alert
    assert f'href="/incidents/{alerts[0].incident.uid}/"' in body


def test_console_filters(alice, alerts):
    client = login(alice)
    body = client.get("/console/feed?severity=low").content.decode()
    assert "disk slow" in body
    assert "cpu hot" not in body
    assert "cpu hot" in client.get("/console/feed?service=checkout").content.decode()
    assert "cpu hot" not in client.get("/console/feed?q=disk").content.decode()
    assert client.get("/console/feed?severity=bogus").status_code == 200  # unknown values are ignored


def test_others_see_nothing_and_anonymous_users_log_in(bob, charlie, alerts):
    incident = alerts[0].incident
    for user in (bob, charlie):
        client = login(user)
        for url in ("/console/", "/console/feed"):
            body = client.get(url).content.decode()
            assert "cpu hot" not in body
            assert "disk slow" not in body
        assert client.get(f"/incidents/{incident.uid}/").status_code == 404
    for url in ("/console/", "/console/feed", f"/incidents/{incident.uid}/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_the_incident_page_has_actions_alerts_and_timeline(alice, alerts):
    incident = alerts[0].incident
    body = login(alice).get(f"/incidents/{incident.uid}/").content.decode()
    assert incident.title in body
    assert 'data-action="acknowledge"' in body
    assert "cpu hot" in body
    assert "<b>triggered</b>" in body  # the timeline
    assert "opened by alert: cpu hot" in body
    incident.status = Incident.Status.RESOLVED
    incident.save()
    body = login(alice).get(f"/incidents/{incident.uid}/").content.decode()
    assert 'data-action="acknowledge"' not in body


def test_notifications_link_to_the_incident_page(alerts, settings):
    settings.HIVEOPS_BASE_URL = "https://ops.example"
    incident = alerts[0].incident
    assert incident_url(incident) == f"https://ops.example/incidents/{incident.uid}/"


def test_the_incident_page_links_only_http_runbooks(alice, alerts):
    page = f"/incidents/{alerts[0].incident.uid}/"
    Alert.objects.filter(pk=alerts[0].pk).update(runbook_url="javascript:alert(1)")  # a row from before
    body = login(alice).get(page).content.decode()
    assert "javascript:" not in body
    assert ">runbook</a>" not in body
    Alert.objects.filter(pk=alerts[0].pk).update(runbook_url="https://runbooks.example/cpu")
    body = login(alice).get(page).content.decode()
    assert '<a href="https://runbooks.example/cpu" rel="noopener noreferrer">runbook</a>' in body
