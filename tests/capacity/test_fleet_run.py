"""The hourly run split into chunk tasks (eager Celery): every resource once, chunks counted once,
one run per beat, a stale run closed by the next."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.utils import timezone

from capacity import services
from capacity.models import Analysis, AnalysisRun
from capacity.tasks import analyse_fleet
from tests.capacity.factories import _no_detection_on_ingest, hourly_series, resource  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(storage_clean, team, settings):
    """Five resources (two with history, three without), chunks of two."""
    settings.HIVEOPS_CAPACITY_RUN_CHUNK = 2
    disks = [resource(team, hourly_series(team, labels={"host": f"db{i}"}), name=f"disk {i}") for i in range(2)]
    empty = [resource(team, None, name=f"empty {i}") for i in range(3)]
    return disks + empty


def test_the_hourly_run_analyses_every_resource_in_chunks(fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        reason = analyse_fleet.delay().get()
    run = AnalysisRun.objects.get(scheduled=True)
    assert f"run {run.uid}: 5 resource(s) in 3 chunk(s)" == reason
    assert len(queued) == 3  # two at first (width 2), then each finished chunk queued the next
    assert (run.status, run.done, run.failed, run.total) == ("done", 5, 0, 5)
    assert run.finished_at >= run.started_at
    chunks = list(run.chunks.all())
    assert [c.resource_ids for c in chunks] == [[r.id for r in fleet[i : i + 2]] for i in (0, 2, 4)]
    assert {c.status for c in chunks} == {"done"}
    assert sum(c.done for c in chunks) == 5
    statuses = dict(Analysis.objects.values_list("resource_id", "status"))
    assert statuses == {r.id: "ok" if r.series_id else "no_data" for r in fleet}


def test_only_two_chunks_are_queued_at_once(fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        run = services.fleet_run_start()
    assert len(queued) == 2
    assert list(run.chunks.values_list("status", flat=True)) == ["queued", "queued", "pending"]
    assert not Analysis.objects.exists()  # nothing runs before the commit


def test_a_chunk_delivered_twice_is_stored_again_and_counted_once(
    fleet, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=False):
        run = services.fleet_run_start()
    first = run.chunks.get(index=0)
    analyse = services.analyses_refresh

    def another_delivery_meanwhile(**kwargs):
        """A second delivery of the same chunk (a worker presumed lost) runs through while this
        one does the maths."""
        monkeypatch.setattr(services, "analyses_refresh", analyse)
        assert services.chunk_analyse(chunk_id=first.id) == "chunk 0: 2 analysed, 0 failed"
        stored.update(Analysis.objects.values_list("resource_id", "computed_at"))
        return analyse(**kwargs)

    stored: dict = {}
    monkeypatch.setattr(services, "analyses_refresh", another_delivery_meanwhile)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert services.chunk_analyse(chunk_id=first.id) == "chunk 0: analysed again, counted before"
    assert len(queued) == 1  # the next pending chunk (index 2), queued once
    assert Analysis.objects.count() == 2  # an upsert: one row per resource
    assert all(a.computed_at > stored[a.resource_id] for a in Analysis.objects.all())
    run.refresh_from_db()
    assert (run.done, run.status) == (2, "running")
    assert services.chunk_analyse(chunk_id=first.id) == "chunk gone or done"  # a third, later delivery
    for chunk in run.chunks.exclude(status="done"):
        with django_capture_on_commit_callbacks(execute=False):
            services.chunk_analyse(chunk_id=chunk.id)
    run.refresh_from_db()
    assert (run.done, run.total, run.status) == (5, 5, "done")


def test_a_second_beat_starts_nothing_and_the_next_hour_closes_a_stuck_run(fleet, django_capture_on_commit_callbacks):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False):
        stuck = services.fleet_run_start(now=now)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert services.fleet_run_start(now=now + td(seconds=5)) is None
        assert services.fleet_run_start(now=now + td(minutes=49)) is None
    assert not queued
    assert AnalysisRun.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        fresh = services.fleet_run_start(now=now + td(hours=1))
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, stuck.done) == ("failed", 0)
    assert stuck.duration_s == pytest.approx(3600)
    assert (fresh.status, fresh.done) == ("done", 5)  # the lost chunks were redone by the next run
    lost = stuck.chunks.first()
    assert services.chunk_analyse(chunk_id=lost.id) == f"run {stuck.uid} is failed"  # late delivery: no work


def test_a_resource_disabled_during_the_run_leaves_the_total(fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = services.fleet_run_start()
    fleet[4].enabled = False
    fleet[4].save()
    with django_capture_on_commit_callbacks(execute=True):
        for chunk in run.chunks.all():
            services.chunk_analyse(chunk_id=chunk.id)
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == ("done", 4, 4)
    assert not Analysis.objects.filter(resource=fleet[4]).exists()


def test_an_empty_fleet_makes_a_finished_run(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        run = services.fleet_run_start()
    assert not queued
    assert (run.status, run.total, run.duration_s) == ("done", 0, 0.0)
