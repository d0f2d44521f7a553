"""/healthz and /readyz: unauthenticated, fast to fail, and saying nothing but check names."""

from __future__ import annotations

import time

import pytest
from django.db import connections
from django.test import Client

from core.observability import celery_hooks, heartbeats
from core.observability.heartbeats import HEARTBEAT_TASK
from core.observability.tasks import heartbeat


@pytest.fixture(autouse=True)
def _no_heartbeats(db):
    heartbeats.client().delete(*heartbeats.keys().values())
    yield
    heartbeats.client().delete(*heartbeats.keys().values())


def fresh_heartbeats() -> None:
    celery_hooks._published(sender=HEARTBEAT_TASK)  # what beat does when it publishes the task
    heartbeat.delay()  # what the worker does when it runs it


def test_healthz_answers_ok_without_authentication():
    response = Client().get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok\n")
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ready_with_database_redis_and_fresh_heartbeats():
    fresh_heartbeats()
    response = Client().get("/readyz")
    assert (response.status_code, response.content) == (200, b"ready\n")


def test_readyz_without_heartbeats_names_beat_and_worker():
    response = Client().get("/readyz")
    assert (response.status_code, response.content) == (503, b"not ready: beat, worker\n")


def test_a_stale_worker_heartbeat_is_not_ready(settings):
    settings.HIVEOPS_HEARTBEAT_MAX_AGE_S = 90
    heartbeats.beat()
    heartbeats.worker(now=time.time() - 91)
    response = Client().get("/readyz")
    assert (response.status_code, response.content) == (503, b"not ready: worker\n")
    heartbeats.worker(now=time.time() - 89)
    assert Client().get("/readyz").status_code == 200


def test_other_tasks_do_not_count_as_beat_heartbeat():
    celery_hooks._published(sender="metrics.tasks.refresh_rollups")
    assert heartbeats.ages()["beat"] is None


def test_redis_unreachable_fails_redis_and_both_heartbeats_quickly(settings):
    fresh_heartbeats()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    started = time.monotonic()
    response = Client().get("/readyz")
    assert time.monotonic() - started < 2
    assert (response.status_code, response.content) == (503, b"not ready: redis, beat, worker\n")


def test_database_unreachable_fails_database_without_details(monkeypatch):
    fresh_heartbeats()
    monkeypatch.setitem(connections["default"].settings_dict, "PORT", "1")
    response = Client().get("/readyz")
    assert (response.status_code, response.content) == (503, b"not ready: database\n")
    monkeypatch.undo()
    assert Client().get("/readyz").status_code == 200  # reconnects once the database is back


def test_probes_only_answer_get():
    assert Client().post("/healthz").status_code == 405
