"""Analysing resources from stored metrics: the stored analysis, runs with progress, scenarios."""

from __future__ import annotations

import pytest
from django.utils import timezone

from capacity import services
from capacity.models import Analysis, AnalysisRun, Resource
from capacity.selectors import fleet, fleet_summary
from tests.capacity.factories import _no_detection_on_ingest, hourly_series, resource  # noqa: F401

pytestmark = pytest.mark.django_db


def test_it_stores_the_time_to_exhaustion_and_a_recommendation(storage_clean, team):
    series = hourly_series(team, level=40, per_day=2)  # 100 % in 30 days
    disk = resource(team, series)
    assert services.analyses_refresh(resources=[disk]) == (1, 0)
    a = Analysis.objects.get(resource=disk)
    assert a.status == "ok"
    assert 26 < a.days("p50") < 34
    assert a.days("p10") <= a.days("p50") <= a.days("p90")
    assert a.probability > 0.9
    assert a.at_risk
    assert a.model.startswith("linear")
    assert a.utilization == pytest.approx(0.4, abs=0.02)
    # Peak in the 30-day window is ~100 %: 4 replicas at a 70 % target need 6.
    assert a.action == "scale_out"
    assert a.new_allocation == 6
    assert float(a.monthly_cost_change) == 100.0
    assert a.details["band"]["times"][0] <= a.details["band"]["times"][-1]
    assert "in " in a.eta


def test_no_data_and_too_little_data_are_reported(storage_clean, team):
    series = hourly_series(team, days=1)
    few = resource(team, series, name="new host")
    services.analyses_refresh(resources=[few])
    few_points = Analysis.objects.get(resource=few)
    assert few_points.status == "insufficient"  # a day is no basis for a date (issue 22)
    assert "days of history (24 hourly points): at least 4 days are needed" in few_points.message
    assert few_points.tte_p50_s is None
    assert few_points.eta == ""
    empty = resource(team, None, name="no series")
    services.analyses_refresh(resources=[empty])
    assert Analysis.objects.get(resource=empty).status == "no_data"


def test_a_run_records_progress_and_only_covers_its_team(storage_clean, team, other_team):
    mine = resource(team, hourly_series(team))
    theirs = resource(other_team, hourly_series(other_team, metric="cpu"), name="their cpu")
    run = services.run_create(team=team)  # eager celery: runs on commit
    run = services.run_execute(run=run)
    assert run.status == AnalysisRun.Status.DONE
    assert (run.done, run.total, run.failed) == (1, 1, 0)
    assert Analysis.objects.filter(resource=mine).exists()
    assert not Analysis.objects.filter(resource=theirs).exists()
    again = services.run_execute(run=run)  # a finished run is not run twice
    assert again.finished_at == run.finished_at


def test_fleet_is_sorted_by_risk_with_totals(storage_clean, team):
    urgent = resource(team, hourly_series(team, level=80, per_day=3), name="urgent")
    idle = resource(
        team,
        hourly_series(team, metric="cpu", level=10, per_day=0),
        name="idle",
        kind="cpu",
        allocation=10,
        unit_cost=20,
        min_allocation=2,
    )
    services.analyses_refresh(resources=[idle, urgent])
    resources = fleet(team_ids=[team.id])
    assert [r.name for r in resources] == ["urgent", "idle"]
    summary = fleet_summary(resources)
    assert summary.at_risk == 1
    assert idle.name in [r.name for r in resources if r.analysis.action == "scale_down"]
    idle_analysis = Analysis.objects.get(resource=idle)
    assert idle_analysis.new_allocation == 2
    assert summary.savings == {"USD": -idle_analysis.monthly_cost_change}
    assert summary.savings["USD"] == 160


def test_scenarios_side_by_side(storage_clean, team):
    disk = resource(team, hourly_series(team, level=40, per_day=1), horizon_days=120)
    from capacity.models import scenario_of

    result = services.scenarios_compare(
        resource=disk,
        scenarios=[
            scenario_of(name="growth", growth_pct_per_month=20),
            scenario_of(name="two more", added_allocation=2),
        ],
    )
    base, growth, more = result["scenarios"]
    assert base["name"] == "baseline"
    assert growth["tte_days"]["p50"] < base["tte_days"]["p50"]
    assert more["tte_days"]["p50"] is None or more["tte_days"]["p50"] > base["tte_days"]["p50"]
    assert more["monthly_cost_change"] == pytest.approx(100.0 + (more["new_allocation"] - 6) * 50)


def test_disabled_resources_are_skipped(storage_clean, team):
    off = resource(team, hourly_series(team), enabled=False)
    assert services.analyses_refresh(resources=Resource.objects.filter(pk=off.pk)) == (0, 0)


def test_two_processes_store_what_one_does(storage_clean, team, monkeypatch):
    """The fleet's maths in two forked processes (chunks read and stored here) gives the same
    analyses as one process, and progress still counts every chunk."""
    disks = [
        resource(team, hourly_series(team, labels={"host": f"db{i}"}, per_day=1 + i, seed=i), name=f"disk {i}")
        for i in range(3)
    ]
    monkeypatch.setattr(services, "CHUNK", 1)
    seen, now = [], timezone.now()
    assert services.analyses_refresh(resources=disks, now=now, processes=1) == (3, 0)
    one = {a.resource_id: (a.tte_p10_s, a.tte_p50_s, a.tte_p90_s, a.model) for a in Analysis.objects.all()}
    Analysis.objects.all().delete()
    counted = services.analyses_refresh(resources=disks, now=now, processes=2, progress=lambda d, _: seen.append(d))
    assert counted == (3, 0)
    two = {a.resource_id: (a.tte_p10_s, a.tte_p50_s, a.tte_p90_s, a.model) for a in Analysis.objects.all()}
    assert two == one
    assert len({v[1] for v in two.values()}) == 3  # three different resources, three answers
    assert seen == [1, 2, 3]


def test_a_worker_process_that_may_not_fork_analyses_in_place(storage_clean, team, monkeypatch):
    """A Celery prefork child is daemonic and may not start processes: the fleet runs in it."""
    disk = resource(team, hourly_series(team))
    other = resource(team, hourly_series(team, labels={"host": "db2"}), name="disk 2")
    monkeypatch.setattr(services, "CHUNK", 1)
    monkeypatch.setattr(services.multiprocessing.current_process(), "daemon", True, raising=False)
    with services.fleet_pool(2) as pool:
        assert pool is None
    assert services.analyses_refresh(resources=[disk, other], processes=2) == (2, 0)
