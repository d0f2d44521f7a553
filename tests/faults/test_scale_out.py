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
SCORED = re.compile(r"detect_series\[[^]]+\] succeeded in [0-9.e-]+s: '(\d+) point\(s\)")


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
    for n in range(0, SERIES, 2):  # each request queues one detection task for its two series
        series = [{"metric": "m", "labels": {"n": str(i)}, "points": points(start, POINTS)} for i in (n, n + 1)]
        web = web_a if n % 4 == 0 else web_b
        assert ingest(web.url, stack.seed["token"], {"series": series}, timeout=120).status == 200
    ids = [row[0] for row in stack.query("SELECT id FROM metrics_series ORDER BY id")]
    for _ in range(4):  # the same series again, as a sweep racing the ingest tasks would queue them
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
        lambda: sum(w.log().count("detect_series[") for w in workers) == 2 * (SERIES // 2 + 4),
        timeout=60,
        what="every detection task to finish",
    )
    by_worker = [sum(int(n) for n in SCORED.findall(w.log())) for w in workers]
    assert sum(by_worker) == SERIES * POINTS  # exactly once, across both workers
    assert all(n > 0 for n in by_worker), by_worker  # both did some of it
