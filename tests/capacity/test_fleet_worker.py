"""The hourly run through a real Celery worker (prefork, concurrency 2): two chunks in flight at
once, every resource analysed, one run for two beats, a chunk delivered again not counted."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from django.conf import settings

from capacity import services
from capacity.models import Analysis, AnalysisRun
from core.queue import enqueue
from tests.alerts.test_worker_kill import ROOT, kill, start_worker
from tests.capacity.factories import _no_detection_on_ingest, hourly_series, resource  # noqa: F401

CHUNK = 3


def wait_for(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_shares_the_chunks_and_counts_each_once(storage_clean, team):
    from hive_ops.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.CELERY_TASK_DEFAULT_QUEUE = queue
    settings.HIVEOPS_CAPACITY_RUN_CHUNK = CHUNK
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "HIVEOPS_CAPACITY_RUN_CHUNK": str(CHUNK),
        "REDIS_URL": settings.REDIS_URL,
        "HIVEOPS_INSTALLATION": settings.HIVEOPS_INSTALLATION,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    fleet = [resource(team, hourly_series(team, labels={"host": f"db{i}"}), name=f"disk {i}") for i in range(4)]
    fleet += [resource(team, None, name=f"empty {i}") for i in range(8)]
    worker = start_worker(env, queue)
    try:
        run = services.fleet_run_start()  # commits: two chunk tasks go to Redis
        assert services.fleet_run_start() is None  # a second beat
        assert wait_for(lambda: AnalysisRun.objects.get(pk=run.pk).status == "done", 90), "the run did not finish"
        first = run.chunks.get(index=0)
        enqueue("capacity.tasks.analyse_chunk", first.id)  # delivered again after it finished
        time.sleep(3)
    finally:
        kill(worker)
        app.conf.CELERY_TASK_DEFAULT_QUEUE = "celery"
    run.refresh_from_db()
    assert (run.done, run.failed, run.total) == (12, 0, 12)
    assert AnalysisRun.objects.count() == 1
    chunks = list(run.chunks.all())
    assert [c.status for c in chunks] == ["done"] * 4
    assert [c.done for c in chunks] == [CHUNK] * 4
    statuses = dict(Analysis.objects.values_list("resource_id", "status"))
    assert statuses == {r.id: "ok" if r.series_id else "no_data" for r in fleet}
    # Two chunks were queued at once (one per worker process): the second before the first finished.
    assert chunks[1].queued_at < chunks[0].finished_at
