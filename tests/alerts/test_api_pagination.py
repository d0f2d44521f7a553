"""The alert list's keyset cursor and capped count (core/pagination.py); offset pages still work."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from alerts.api.serializers import AlertSerializer
from alerts.models import Alert
from core import pagination
from tests.alerts.factories import raise_alert, service


@pytest.fixture
def client(alice) -> APIClient:
    api = APIClient()
    api.force_login(alice)
    return api


@pytest.fixture
def seven(team):
    made = [raise_alert(team, labels={"alertname": f"A{i}", "host": "h"}) for i in range(7)]
    same_time = made[0].last_seen
    Alert.objects.filter(pk__in=[a.pk for a in made[:4]]).update(last_seen=same_time)  # ties: id decides
    return made


def walk(client, first: str) -> list[str]:
    seen, url = [], first
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = f"/api/v1/alerts?limit=3&cursor={body['next_cursor']}" if body["next_cursor"] else None
    return seen


def test_cursor_pages_cover_the_list_once_in_order(client, seven):
    everything = [row["id"] for row in client.get("/api/v1/alerts").json()["results"]]
    assert len(everything) == 7
    assert walk(client, "/api/v1/alerts?limit=3") == everything


def test_next_link_keeps_using_the_cursor(client, seven):
    first = client.get("/api/v1/alerts?limit=3").json()
    assert "offset=3" in first["next"]
    assert first["next_cursor"]
    second = client.get(f"/api/v1/alerts?limit=3&cursor={first['next_cursor']}").json()
    assert "cursor=" in second["next"]
    assert "offset" not in second["next"]
    assert second["previous"] is None
    third = client.get(second["next"]).json()
    assert (len(third["results"]), third["next"], third["next_cursor"]) == (1, None, None)


def test_offset_pages_still_work(client, seven):
    everything = [row["id"] for row in client.get("/api/v1/alerts").json()["results"]]
    page = client.get("/api/v1/alerts?limit=2&offset=2").json()
    assert [row["id"] for row in page["results"]] == everything[2:4]
    assert (page["count"], page["count_capped"]) == (7, False)


def test_count_is_capped_unless_exact_is_asked(client, seven, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    capped = client.get("/api/v1/alerts?limit=2").json()
    assert (capped["count"], capped["count_capped"]) == (5, True)
    exact = client.get("/api/v1/alerts?limit=2&count=exact").json()
    assert (exact["count"], exact["count_capped"]) == (7, False)


def test_a_bad_cursor_is_a_400_naming_it(client, seven):
    response = client.get("/api/v1/alerts?cursor=not-a-cursor")
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_filters_apply_with_a_cursor(client, team, seven):
    Alert.objects.filter(pk=seven[0].pk).update(severity="info")
    first = client.get("/api/v1/alerts?severity=info&limit=1").json()
    assert (len(first["results"]), first["next_cursor"], first["count"]) == (1, None, 1)


def test_list_rows_match_the_serializer(client, team, alice, seven):
    now = timezone.now()
    Alert.objects.filter(pk=seven[0].pk).update(
        service=service(team), assignee=alice, muted="silenced", value=None, acknowledged_at=now
    )
    Alert.objects.filter(pk=seven[1].pk).update(status="resolved", resolved_at=now, value=12)
    listed = client.get("/api/v1/alerts").json()["results"]
    alerts = Alert.objects.filter(team=team).select_related("service", "incident", "assignee")
    expected = AlertSerializer(alerts.order_by("-last_seen", "-id"), many=True).data
    assert listed == json.loads(JSONRenderer().render(expected))
