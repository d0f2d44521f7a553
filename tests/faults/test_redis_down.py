"""Redis stopped (killed) under a running web process and worker, then started again empty.

Ingest keeps answering 200 and storing batches while Redis is gone; an API read keeps working;
once Redis is back, the open WebSocket gets live updates again, tasks are dispatched again, and
the detection sweep (what beat runs every 30 s) scores the points whose tasks could not be
queued: every stored point is scored exactly once."""

from __future__ import annotations

import time

from metrics.api import TICK_INTERVAL_S
from tests.faults.clients import LiveClient, batch, ingest, minute_now, request
from tests.processes import send_task, wait_for


def scored(stack) -> dict[str, tuple[int, int, int]]:
    """Per series label `name`: (samples stored, points scored, the detector's point counter)."""
    rows = stack.query(
        "SELECT s.labels->>'name', (SELECT count(*) FROM metrics_sample m WHERE m.series_id = s.id),"
        " (SELECT count(*) FROM forecasting_pointscore p WHERE p.series_id = s.id),"
        " coalesce((SELECT d.points FROM forecasting_seriesdetector d WHERE d.series_id = s.id), 0)"
        " FROM metrics_series s"
    )
    return {name: (samples, scores, counter) for name, samples, scores, counter in rows}


def test_ingest_survives_redis_going_away_and_everything_catches_up(stack):
    token, cookie = stack.seed["token"], stack.seed["cookie"]
    web = stack.web()
    worker = stack.worker()
    web.wait_until_up()
    worker.wait_until_ready()
    live = LiveClient(web.url, cookie).start()
    start = minute_now() - 3600

    assert ingest(web.url, token, batch("cpu", {"name": "a"}, start, 5)).status == 200
    live.wait_for(lambda c: c.of_type("metric.tick"), what="a tick before the outage")
    wait_for(lambda: scored(stack).get("a") == (5, 5, 5), timeout=60, what="series a scored by the worker")

    stack.redis.stop()
    during = [
        ingest(web.url, token, batch("cpu", {"name": "a"}, start + 300, 5)),
        ingest(web.url, token, batch("cpu", {"name": "b"}, start, 5)),
    ]
    assert [(a.status, a.body) for a in during] == [(200, {"accepted": 5, "duplicates": 0, "series": 1})] * 2
    assert scored(stack)["a"][0] == 10
    assert scored(stack)["b"][0] == 5
    listing = request(f"{web.url}/api/v1/series?metric=cpu", token=token)
    assert listing.status == 200
    assert listing.body["count"] == 2
    ticks_before = len(live.of_type("metric.tick"))

    stack.redis.start()  # same port, empty: queued tasks, channel groups and the live log are gone
    time.sleep(TICK_INTERVAL_S + 0.5)  # ticks are sent at most once a second per team
    after = ingest(web.url, token, batch("cpu", {"name": "a"}, start + 600, 5))
    assert after.status == 200
    live.wait_for(lambda c: len(c.of_type("metric.tick")) > ticks_before, timeout=30, what="a tick after Redis")
    # The ingest after the outage queues detection for `a`, which scores its missed points too.
    wait_for(lambda: scored(stack)["a"] == (15, 15, 15), timeout=60, what="series a to catch up")
    # Nothing queued detection for `b`: the periodic sweep finds it behind its samples.
    send_task(stack.redis.url(), "forecasting.tasks.detect_sweep", [])
    wait_for(lambda: scored(stack)["b"] == (5, 5, 5), timeout=60, what="the sweep to score series b")
    assert "detect_series" in worker.log()
    live.close()


def test_ingest_does_not_hang_on_a_redis_that_stopped_answering(stack):
    """A frozen Redis accepts connections and never answers: every Redis call must time out."""
    token = stack.seed["token"]
    web = stack.web()
    web.wait_until_up()
    start = minute_now() - 3600
    assert ingest(web.url, token, batch("cpu", {"name": "a"}, start, 5)).status == 200
    stack.redis.freeze()
    try:
        # Without socket timeouts this request never ended (the broker and pub/sub clients waited forever).
        answer = ingest(web.url, token, batch("cpu", {"name": "a"}, start + 300, 5), timeout=60)
    finally:
        stack.redis.thaw()
    assert (answer.status, answer.body) == (200, {"accepted": 5, "duplicates": 0, "series": 1})
    assert stack.scalar("SELECT count(*) FROM metrics_sample") == 10
