"""A Celery worker killed while it scores points: every point is still scored exactly once.

The detector row is locked while its series is scored, and its cursor moves in the same
transaction as the scores (forecasting/services/detection.py): a killed task leaves nothing
behind, and running it again (or the sweep) scores from the old cursor. Two ways to die:

- the pool process is killed (OOM killer): the task is acknowledged late and rejected on worker
  loss, so the worker requeues it at once and runs it again;
- the whole worker is killed (power cut): the message stays unacknowledged in Redis until the
  visibility timeout; the detection sweep (beat, every 30 s) scores the series meanwhile."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

from tests.faults.clients import ingest, minute_now, points
from tests.processes import kill_group, send_task, wait_for

SERIES = 8
POINTS = 6000  # per series: enough that scoring one batch takes a few seconds


def ingest_history(stack, web_url: str) -> None:
    start = minute_now() - POINTS * 60
    for first in range(0, SERIES, 4):
        series = [
            {"metric": "m", "labels": {"n": str(n)}, "points": points(start, POINTS)} for n in range(first, first + 4)
        ]
        assert ingest(web_url, stack.seed["token"], {"series": series}, timeout=120).status == 200


def scored(stack) -> list[tuple[int, int, int]]:
    """Per series: (samples, scores, the detector's point counter)."""
    return stack.query(
        "SELECT (SELECT count(*) FROM metrics_sample m WHERE m.series_id = s.id),"
        " (SELECT count(*) FROM forecasting_pointscore p WHERE p.series_id = s.id),"
        " coalesce((SELECT d.points FROM forecasting_seriesdetector d WHERE d.series_id = s.id), 0)"
        " FROM metrics_series s ORDER BY s.id"
    )


def all_scored(stack) -> bool:
    return scored(stack) == [(POINTS, POINTS, POINTS)] * SERIES


def task_running(worker) -> bool:
    """A detection task received and not finished (ingest queues one detect_team run per team)."""
    log = worker.log()
    return log.count("detect_team[") > 2 * log.count("] succeeded")


def pool_children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").glob("*") for c in (task / "children").read_text().split()]


def test_killing_the_pool_process_mid_task_requeues_it_and_scores_once(stack):
    web = stack.web()
    web.wait_until_up()
    ingest_history(stack, web.url)  # one detection run for the team waits in Redis: no worker yet
    worker = stack.worker(pool="prefork", concurrency=1)
    wait_for(lambda: task_running(worker), timeout=90, what="a detection task to start")
    children = pool_children(worker.process.pid)
    assert len(children) == 1
    os.kill(children[0], signal.SIGKILL)
    wait_for(lambda: all_scored(stack), timeout=180, interval=0.5, what="every point to be scored")
    log = worker.log()
    assert re.search(r"WorkerLostError|exited with 'signal 9", log), log[-3000:]
    assert scored(stack) == [(POINTS, POINTS, POINTS)] * SERIES


def test_killing_the_whole_worker_mid_task_leaves_the_rest_to_the_sweep(stack):
    web = stack.web()
    web.wait_until_up()
    ingest_history(stack, web.url)
    worker = stack.worker()
    wait_for(lambda: task_running(worker), timeout=90, what="a detection task to start")
    kill_group(worker.process)  # its message stays unacknowledged in Redis (visibility timeout)
    assert not all_scored(stack)
    worker = stack.worker("worker2")
    worker.wait_until_ready()
    send_task(stack.redis.url(), "forecasting.tasks.detect_sweep", [])  # what beat sends every 30 s
    wait_for(lambda: all_scored(stack), timeout=180, interval=0.5, what="the sweep to score every point")
