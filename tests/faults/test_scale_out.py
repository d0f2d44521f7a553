"""Two daphne processes and two Celery workers sharing one PostgreSQL and one Redis.

An alert raised through one web process reaches a WebSocket client of the other (the live
fan-out goes through Redis pub/sub). Detection work queued through both web processes, plus
duplicate tasks for every series, is split between the workers, and the points the tasks report
as scored add up to exactly the points stored: nothing was scored twice."""

from __future__ import annotations

import re

from tests.faults.clients import LiveClient, ingest, minute_now, points, request
from tests.processes import send_task, wait_for

SERIES = 16
POINTS = 1000
SCORED = re.compile(r"detect_(?:series|team)\[[^]]+\] succeeded in [0-9.e-]+s: '(\d+) point\(s\)")


def test_two_web_processes_and_two_workers_share_the_work(stack):
    web_a, web_b = stack.web("web_a"), stack.web("web_b")
    workers = [stack.worker("w1"), stack.worker("w2")]
    web_a.wait_until_up()
    web_b.wait_until_up()
    for worker in workers:
        worker.wait_until_ready()

    live = LiveClient(web_b.url, stack.seed["cookie"]).start()
    answer = request(
        f"{web_a.url}/api/v1/integrations/webhook",
        method="POST",
        body={"summary": "raised through web A", "severity": "high", "labels": {"host": "a"}},
        token=stack.seed["webhook_key"],
    )
    assert answer.status == 200
    changed = live.wait_for(lambda c: c.of_type("alert.changed"), what="the alert on web B's WebSocket")
    assert changed[0]["team"] == "ops"
    live.close()

    start = minute_now() - POINTS * 60
    # One request (48,000 points): its coalesced detection run for the team starts 2 s later.
    series = [{"metric": "m", "labels": {"n": str(i)}, "points": points(start, POINTS)} for i in range(SERIES)]
    assert ingest(web_b.url, stack.seed["token"], {"series": series}, timeout=120).status == 200
    ids = [row[0] for row in stack.query("SELECT id FROM metrics_series ORDER BY id")]
    # As the sweep queues it (chunks), before the ingest's coalesced run starts (2 s later): one
    # chunk per worker, then the same series again, as racing sweeps and ingest runs would.
    for half in (ids[: SERIES // 2], ids[SERIES // 2 :]):
        send_task(stack.redis.url(), "forecasting.tasks.detect_series", [half])
    for _ in range(4):
        send_task(stack.redis.url(), "forecasting.tasks.detect_series", [ids])

    def done() -> bool:
        rows = stack.query(
            "SELECT (SELECT count(*) FROM forecasting_pointscore p WHERE p.series_id = s.id),"
            " coalesce((SELECT d.points FROM forecasting_seriesdetector d WHERE d.series_id = s.id), 0)"
            " FROM metrics_series s"
        )
        return rows == [(POINTS, POINTS)] * SERIES

    wait_for(done, timeout=180, interval=0.5, what="every point to be scored")
    wait_for(
        lambda: sum(sum(int(n) for n in SCORED.findall(w.log())) for w in workers) == SERIES * POINTS,
        timeout=60,
        what="the workers to report every point",
    )
    by_worker = [sum(int(n) for n in SCORED.findall(w.log())) for w in workers]
    assert sum(by_worker) == SERIES * POINTS  # exactly once, across both workers
    assert all(n > 0 for n in by_worker), by_worker  # both did some of it
