"""KPI maths of the executive dashboard against a hand-computed fixture (time frozen).

Now: 2026-03-31 12:00 UTC. Period 7d = [03-24 12:00, 03-31 12:00), previous = the 7 days before.
Services: checkout 100/min, search 10/min (revenue at stake 110 × 10,080 min = 1,108,800).

incident  service   prio  opened        ack    resolved   in period            revenue impact
A         checkout  P1    03-30 10:00   +10m   +60m       60 min               60 × 100 × 1.0  = 6,000
B         search    P3    03-25 08:00   +30m   +120m      120 min              120 × 10 × 0.25 =   300
C         checkout  P2    03-24 11:00   +20m   +120m      60 min (60 before)   60 × 100 × 0.5  = 3,000 (+3,000 before)
D         (none)    P4    03-31 11:00   open              60 min               0
bob's team: one P1 that must never count.

Current: 3 opened (P1, P3, P4), MTTA (10+30)/2 = 20, MTTR (60+120)/2 = 90, impact 300 min,
revenue 9,300. Previous: 1 opened (P2), MTTA 20, MTTR 120, revenue 3,000.
SLO "checkout availability" (99 %): 99.5 % this week (budget left 0.5), 100 % the week before;
SLA for ACME at 99.9 % on it: missed now, met before; ACME is affected in both periods.

Health now: slo 50, incidents max(0, 100 − 25 × 30/7) = 0, response (0.75 + 1)/2 = 87.5,
revenue 100 × (1 − 9300/1108800/0.05) = 83.2251, risk 100 →
(35·50 + 25·0 + 15·87.5 + 15·83.2251 + 10·100) / 100 = 53.1 → 53.
Before: slo 100, incidents 100 − 10 × 30/7 = 57.1429, response 87.5, revenue 94.5887, risk 100 → 86.6 → 87.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bi import kpis, selectors
from slo.models import SLOHour
from tests.bi.conftest import NOW, at


def test_periods():
    p = kpis.period_for("7d", NOW)
    assert (p.start, p.end, p.previous_start, p.previous_end, p.bucket) == (
        at(24, 12),
        NOW,
        at(17, 12),
        at(24, 12),
        "day",
    )
    assert kpis.period_for("90d", NOW).bucket == "week"
    q = kpis.period_for("quarter", datetime(2026, 5, 11, 6, tzinfo=UTC))
    assert q.start == datetime(2026, 4, 1, tzinfo=UTC)
    assert q.previous_start == datetime(2026, 1, 1, tzinfo=UTC)
    assert q.previous_end == datetime(2026, 2, 10, 6, tzinfo=UTC)  # same 40 days 6 hours into the quarter
    with pytest.raises(kpis.PeriodError, match="7d, 30d, 90d, quarter"):
        kpis.period_for("1y", NOW)


def test_health_score_leaves_out_components_without_data():
    assert (
        kpis.health_score({"slo": None, "incidents": 100.0, "response": None, "revenue": None, "risk": 0.0}).score == 71
    )
    assert kpis.health_score(dict.fromkeys(kpis.WEIGHTS)).score is None
    assert kpis.response_component(30.0, 480.0) == 50.0
    assert kpis.revenue_component(0.0, 0.0) is None


def test_figures_match_the_hand_computed_fixture(world, frozen, team):
    s = selectors.summary(team_ids=[team.id], period="7d")
    c, p = s.current, s.previous
    assert c.incidents_by_priority == {1: 1, 3: 1, 4: 1}
    assert (c.mtta_min, c.mttr_min) == (20.0, 90.0)
    assert c.impact_minutes == pytest.approx(300.0)
    assert c.revenue_impact == pytest.approx(9300.0)
    assert c.revenue_at_stake == pytest.approx(1_108_800.0)
    assert c.customers_affected == ["ACME"]
    assert p.incidents_by_priority == {2: 1}
    assert (p.mtta_min, p.mttr_min) == (20.0, 120.0)
    assert p.revenue_impact == pytest.approx(3000.0)
    assert p.customers_affected == ["ACME"]
    [row] = s.slos
    assert row.attainment == pytest.approx(99.5)
    assert row.previous_attainment == pytest.approx(100.0)
    assert row.budget_left == pytest.approx(0.5)
    assert (c.slo_met, c.slo_total, c.sla_met, c.sla_total) == (1, 1, 0, 1)
    assert (p.slo_met, p.slo_total, p.sla_met, p.sla_total) == (1, 1, 1, 1)
    assert s.risks == []
    assert s.health.components["slo"] == pytest.approx(50.0)
    assert s.health.components["incidents"] == 0.0
    assert s.health.components["response"] == pytest.approx(87.5)
    assert s.health.components["revenue"] == pytest.approx(83.2251, abs=1e-4)
    assert s.health.score == 53
    assert s.previous_health.components["incidents"] == pytest.approx(57.1429, abs=1e-4)
    assert s.previous_health.components["revenue"] == pytest.approx(94.5887, abs=1e-4)
    assert s.previous_health.score == 87


def test_trend_per_day(world, frozen, team):
    trend = selectors.summary(team_ids=[team.id], period="7d").trend
    assert [t.start.day for t in trend] == [24, 25, 26, 27, 28, 29, 30, 31]
    assert [t.incidents for t in trend] == [0, 1, 0, 0, 0, 0, 1, 1]
    assert [t.mtta_min for t in trend if t.incidents] == [30.0, 10.0, None]
    assert [t.mttr_min for t in trend if t.incidents] == [120.0, 60.0, None]


def test_the_json_form_rounds_and_names_priorities(world, frozen, team):
    data = kpis.summary_dict(selectors.summary(team_ids=[team.id], period="7d"))
    assert data["current"]["incidents_by_priority"] == {"P1": 1, "P2": 0, "P3": 1, "P4": 1, "P5": 0}
    assert data["current"]["revenue_impact"] == 9300.0
    assert data["health"]["score"] == 53
    assert data["period"]["start"] == "2026-03-24T12:00:00Z"
    [row] = data["slas"]
    assert {k: row[k] for k in ("customer", "name", "target", "attainment", "met")} == {
        "customer": "ACME",
        "name": "Checkout gold",
        "target": 99.9,
        "attainment": 99.5,
        "met": False,
    }
    # Each figure says its window: the period (to the settled minute), and the contract month so far.
    assert (row["window_start"], row["window_end"]) == ("2026-03-24T12:00:00Z", "2026-03-31T11:59:00Z")
    assert (row["month_start"], row["month_end"], row["timezone"]) == (
        "2026-03-01T00:00:00Z",
        "2026-03-31T11:59:00Z",
        "UTC",
    )
    assert (row["month_attainment"], row["month_met"]) == (99.75, False)  # 7 days at 100 %, 7 at 99.5 %


def test_an_exhausting_slo_budget_is_a_top_risk(world, frozen, team):
    objective = world.slos.get()
    SLOHour.objects.filter(slo=objective, hour__gte=at(30, 12)).update(good=[5.0] * 60, good_sum=300.0)
    s = selectors.summary(team_ids=[team.id], period="7d")
    assert [r.kind for r in s.risks] == ["slo"]
    assert "error budget" in s.risks[0].title
    assert s.health.components["risk"] == 80.0
