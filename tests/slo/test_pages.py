"""SLO pages for alice (owner), bob (another team), charlie (outsider) and anonymous visitors:
the list sorted by remaining budget, the detail page with chart data, the SLA report."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import numpy as np
import pytest
import time_machine
from django.test import Client

from slo.services import slos_evaluate
from tests.slo.slo_factories import cumulative, minutes_between, series, sla, slo, write_minutes
from tests.slo.test_status import NOW, burning_counters

pytestmark = pytest.mark.usefixtures("storage_clean", "_frozen")


@pytest.fixture
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def slos(team):
    burning_counters(team)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    n = minutes_between(start, NOW)
    write_minutes(series(team, "queue_total"), start, cumulative(np.full(n, 10)))
    never = [{"name": "x", "op": "=", "value": "never"}]
    healthy = slo(team, name="Queue", total_metric="queue_total", bad_metric="queue_total", bad_matchers=never)
    burning = slo(team, name="Checkout")
    sla(team, burning)
    slos_evaluate()
    return burning, healthy


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_list_is_sorted_by_remaining_budget(alice, slos):
    burning, healthy = slos
    page = login(alice).get("/slos/").content.decode()
    assert page.index(f'data-slo="{burning.uid}"') < page.index(f'data-slo="{healthy.uid}"')
    budget = re.search(rf'data-slo="{burning.uid}".*?data-budget="([^"]+)"', page, re.S).group(1)
    assert float(budget) == pytest.approx(0.125, abs=1e-9)
    assert f'href="/slos/{burning.uid}/"' in page
    assert "page (page fast)" in page


def test_detail_has_chart_data(alice, slos):
    burning, _ = slos
    response = login(alice).get(f"/slos/{burning.uid}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "sli-chart" in page
    assert "budget-chart" in page
    assert "js/slo_detail.js" in page
    start = page.index('<script id="slo-history" type="application/json">') + len(
        '<script id="slo-history" type="application/json">'
    )
    history = json.loads(page[start : page.index("</script>", start)])
    assert len(history["times"]) == 720
    assert history["budget_remaining"][-1] == pytest.approx(0.125, abs=1e-9)


def test_report_in_three_formats(alice, slos):
    client = login(alice)
    html = client.get("/slos/reports/?month=2026-02").content.decode()
    assert "ACME" in html
    csv_response = client.get("/slos/reports/?month=2026-02&format=csv")
    assert csv_response["Content-Type"] == "text/csv"
    assert "ACME" in csv_response.content.decode()
    pdf = client.get("/slos/reports/?month=2026-02&format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert client.get("/slos/reports/?month=26-2").status_code == 400
    assert client.get("/slos/reports/?month=2026-02&format=doc").status_code == 400


@pytest.mark.parametrize("persona", ["bob", "charlie"])
def test_other_teams_and_outsiders_see_nothing(request, persona, slos):
    client = login(request.getfixturevalue(persona))
    page = client.get("/slos/").content.decode()
    assert "data-slo=" not in page
    assert client.get(f"/slos/{slos[0].uid}/").status_code == 404
    report = client.get("/slos/reports/?month=2026-02")
    assert report.status_code == 200
    assert "ACME" not in report.content.decode()
    assert "ACME" not in client.get("/slos/reports/?month=2026-02&format=csv").content.decode()


def test_anonymous_goes_to_login(slos):
    for url in ("/slos/", f"/slos/{slos[0].uid}/", "/slos/reports/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
