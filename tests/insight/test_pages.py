"""The incident page's "what else moved" panel and the correlation page."""

from __future__ import annotations

from datetime import timedelta as td

from django.test import Client
from django.utils import timezone

from insight.models import ChangeEvent
from insight.synthetic import make_case
from tests.alerts.factories import raise_alert
from tests.insight.helpers import store_case


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_incident_page_has_the_panel_with_recent_changes(alice, team):
    alert = raise_alert(team, labels={"alertname": "Slow"}, summary="checkout slow")
    ChangeEvent.objects.create(
        team=team,
        via="api",
        summary="deploy checkout v42",
        at=timezone.now() - td(minutes=20),
        links=[{"href": "https://ci.example/42", "text": "build"}],
    )
    ChangeEvent.objects.create(team=team, via="api", summary="ancient deploy", at=timezone.now() - td(days=2))
    body = login(alice).get(f"/incidents/{alert.incident.uid}/").content.decode()
    assert "What else moved, and what moved first" in body
    assert f'id="insight-related" data-uid="{alert.incident.uid}"' in body
    assert "deploy checkout v42" in body
    assert '<a href="https://ci.example/42" rel="noopener">build</a>' in body
    assert "ancient deploy" not in body
    assert "js/insight" in body


def test_the_correlation_page_shows_a_matrix(alice, bob, team, storage_clean):
    store_case(team, make_case(4000, unrelated=10, minutes=200), tag="page")
    url = "/business/correlations/?rows=synthetic_cause,synthetic_walk&columns=synthetic_target&period=6h"
    body = login(alice).get(url).content.decode()
    assert 'id="corr-matrix"' in body
    assert body.count('<th class="row">') == 1 + 5  # B and five walks
    response = login(bob).get(url)
    assert response.status_code == 400
    assert "matches no series of your teams" in response.content.decode()
    assert login(alice).get("/business/correlations/").status_code == 200


def test_the_business_dashboard_links_to_the_correlations(alice):
    body = login(alice).get("/business/").content.decode()
    assert 'href="/business/correlations/"' in body
