"""Capacity pages: alice (owner) sees her fleet and resource; bob (another team) and charlie
(outsider) get none of it; anonymous visitors go to the login page."""

from __future__ import annotations

import pytest
from django.test import Client

from capacity import services
from capacity.models import AnalysisRun, Scenario
from tests.capacity.factories import _no_detection_on_ingest, hourly_series, resource  # noqa: F401

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def fleet(storage_clean, team):
    urgent = resource(team, hourly_series(team, level=80, per_day=3), name="alice urgent disk")
    idle = resource(
        team,
        hourly_series(team, metric="cpu", level=10, per_day=0),
        name="alice idle cpu",
        kind="cpu",
        allocation=10,
        unit_cost=20,
        min_allocation=2,
    )
    Scenario.objects.create(team=team, name="alice growth", growth_pct_per_month=25)
    services.analyses_refresh(resources=[urgent, idle])
    return urgent, idle


def test_fleet_page_is_sorted_by_risk_with_totals(alice, fleet):
    html = login(alice).get("/capacity/").content.decode()
    assert html.index("alice urgent disk") < html.index("alice idle cpu")
    assert "$160.00" in html  # savings available from scaling the idle CPU down 10 → 2
    assert "data-at-risk>1<" in html
    assert "Analyse now" in html
    assert 'href="/capacity/"' in html  # the nav link


def test_resource_page_has_the_chart_recommendation_and_scenarios(alice, fleet):
    urgent, _ = fleet
    html = login(alice).get(f"/capacity/{urgent.uid}/").content.decode()
    assert "Full in " in html
    assert 'data-action="scale_out"' in html
    assert "alice growth" in html  # the saved scenario's column
    assert 'id="capacity-data"' in html
    assert '"band": {' in html
    assert "capacity_resource.js" in html
    assert "data-range-confidence=" in html  # issue 22: the range's confidence and its reason
    assert "Counted from " in html


@pytest.mark.parametrize("persona", ["bob", "charlie"])
def test_others_see_none_of_it(request, persona, fleet):
    client = login(request.getfixturevalue(persona))
    html = client.get("/capacity/").content.decode()
    assert "alice" not in html
    assert "No resources yet" in html
    assert client.get(f"/capacity/{fleet[0].uid}/").status_code == 404


def test_anonymous_goes_to_login(fleet):
    response = Client().get("/capacity/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert Client().get(f"/capacity/{fleet[0].uid}/").status_code == 302


def test_analyse_now_queues_a_run_per_team_and_shows_its_status(alice, fleet):
    client = login(alice)
    response = client.post("/capacity/analyse/")
    assert response.status_code == 302
    run = AnalysisRun.objects.get()
    assert run.team_id == fleet[0].team_id
    assert run.total == 2
    html = client.get("/capacity/").content.decode()
    assert f'data-run="{run.uid}"' in html
    assert "Last analysis: queued" in html
    assert client.get("/capacity/analyse/").status_code == 405
