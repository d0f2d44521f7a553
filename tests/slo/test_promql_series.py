"""SLO SLI, burn rates and error budget as PromQL series on /prometheus, from the recorded
per-minute SLI (SLOHour rows written directly here, as recording would)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from slo.models import SLOHour
from tests.slo.slo_factories import slo

pytestmark = pytest.mark.usefixtures("storage_clean")
HOUR = 1_790_000_000 // 3600 * 3600


@pytest.fixture
def recorded(team, other_team):
    objective = slo(team, objective=99.0)
    # 100 events a minute; 2 bad a minute in the second hour (2 % errors = burn rate 2 at 99 %)
    SLOHour.objects.create(slo=objective, hour=datetime.fromtimestamp(HOUR, UTC), good=[100.0] * 60, total=[100.0] * 60)
    SLOHour.objects.create(
        slo=objective, hour=datetime.fromtimestamp(HOUR + 3600, UTC), good=[98.0] * 60, total=[100.0] * 60
    )
    slo(other_team, name="theirs")
    return objective


@pytest.fixture
def prom(make_token, team):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(team, ('read',))}")
    return lambda **params: client.get("/prometheus/api/v1/query", params).json()["data"]["result"]


def test_burn_rate_windows(prom, recorded):
    end = HOUR + 7200
    result = prom(query='hiveops_slo_burn_rate{window=~"1h|2h"}', time=end)
    by_window = {r["metric"]["window"]: float(r["value"][1]) for r in result}
    assert by_window == pytest.approx({"1h": 2.0, "2h": 1.0})
    assert result[0]["metric"]["slo"] == "Checkout availability"


def test_sli_and_error_budget(prom, recorded):
    assert prom(query="hiveops_slo_sli", time=HOUR + 3660)[0]["value"][1] == "0.98"
    # 30-day budget: 120 bad of 12,000 events = 1 % errors, the whole 1 % budget: nothing left
    [left] = prom(query="hiveops_slo_error_budget_remaining", time=HOUR + 7200)
    assert float(left["value"][1]) == pytest.approx(0.0, abs=1e-9)


def test_other_teams_slos_stay_hidden(prom, recorded):
    assert {r["metric"]["slo"] for r in prom(query="hiveops_slo_sli", time=HOUR + 60)} == {"Checkout availability"}
