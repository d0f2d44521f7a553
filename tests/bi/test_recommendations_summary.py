"""The executive dashboard summarises the open items of the recommendations feed."""

from __future__ import annotations

from django.core.cache import cache
from django.test import Client

from recommendations.selectors import summary
from tests.alerts.factories import service


def test_the_dashboard_counts_open_recommendations(alice, team):
    cache.delete(f"bi:recommendations:{team.id}")  # kept 5 minutes: start from a clean slate
    service(team, slug="payments")  # a service no escalation route covers: an "unowned service" item
    expected = summary([team.id])
    assert expected["count"] >= 1
    client = Client()
    client.force_login(alice)
    body = client.get("/api/v1/bi/summary?period=30d").json()
    assert body["recommendations"]["count"] == expected["count"]
    page = client.get("/business/?period=30d").content.decode()
    assert f'<b data-kpi="recommendations.count">{expected["count"]}</b> open' in page
