"""A real Celery worker is killed mid-escalation and restarted: no step is lost, none repeats."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta as td
from pathlib import Path

import pytest
from django.conf import settings

from paging.models import (
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationRoute,
    Notification,
    NotificationChannel,
)
from paging.services.escalation import escalations_audit
from tests.alerts.factories import raise_alert

ROOT = Path(__file__).resolve().parents[2]
LEVELS = 5
WAIT = td(seconds=2)


def start_worker(env: dict, queue: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hive_ops",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def nice_value(pid: int) -> int:
    """The nice value of a process, from /proc/<pid>/stat (field 19)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def kill(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_escalation_loses_and_repeats_nothing(team, http_peer):
    from hive_ops.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    app.conf.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.CELERY_TASK_DEFAULT_QUEUE = queue
    settings.HIVEOPS_STUCK_AFTER_SECONDS = 3
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CELERY_QUEUE": queue,
        "HIVEOPS_STUCK_AFTER_SECONDS": "3",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "REDIS_URL": settings.REDIS_URL,
        "HIVEOPS_INSTALLATION": settings.HIVEOPS_INSTALLATION,  # the same Redis key prefix as this process
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    policy = EscalationPolicy.objects.create(team=team, name="fast")
    for position in range(1, LEVELS + 1):
        channel = NotificationChannel.objects.create(
            team=team, kind="webhook", name=f"L{position}", config={"url": f"{http_peer.url}/L{position}"}
        )
        level = EscalationLevel.objects.create(policy=policy, position=position, wait=WAIT)  # below the UI minimum
        level.channels.add(channel)
    EscalationRoute.objects.create(team=team, policy=policy, is_default=True)

    worker = start_worker(env, queue)
    try:
        time.sleep(3)  # the worker is up
        raise_alert(team)  # commits; the escalation starts on commit and runs in the worker
        deadline = time.monotonic() + 20
        while len(http_peer.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(http_peer.received) >= 2, "the worker did not deliver the first levels"
        # The worker and its prefork children run below the web processes' priority (and page anyway).
        lowered = min(19, os.nice(0) + settings.CELERY_WORKER_NICE)
        assert settings.CELERY_WORKER_NICE == 10
        assert [nice_value(pid) for pid in [worker.pid, *children(worker.pid)]] == [lowered] * 3
        if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1":
            # its own session: nice alone would not order it against the web's sessions
            assert Path(f"/proc/{worker.pid}/autogroup").read_text().split()[-2:] == ["nice", "10"]
        kill(worker)  # mid-escalation: later steps sit in Redis as ETA tasks of a dead worker
        time.sleep(2 * WAIT.total_seconds())
        worker = start_worker(env, queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            escalations_audit()  # what beat runs every 30 s
            if Escalation.objects.get().state == "finished" and not Notification.objects.exclude(status="sent"):
                break
            time.sleep(0.5)
    finally:
        kill(worker)
        app.conf.CELERY_TASK_DEFAULT_QUEUE = "celery"
    paths = sorted(r.path for r in http_peer.received)
    assert paths == [f"/L{i}" for i in range(1, LEVELS + 1)]  # every level once: none lost, none repeated
    assert list(Notification.objects.values_list("status", flat=True)) == ["sent"] * LEVELS
    assert Escalation.objects.get().state == "finished"
