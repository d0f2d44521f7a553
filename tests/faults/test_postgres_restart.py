"""PostgreSQL stopped and started again while clients keep sending batches.

Clients get 503 with Retry-After while the database is away (also for batches that were in
flight when it went down), never another error and never a partial batch; they retry as the
header says and every batch lands exactly once."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tests.faults.clients import Answer, batch, ingest, minute_now, request
from tests.processes import wait_for

CLIENTS = 3
BATCHES = 12  # per client
POINTS = 2000  # per batch: large enough that some are in flight when the database goes down


@dataclass
class Client:
    number: int
    answers: list[tuple[int, Answer]] = field(default_factory=list)  # (batch, answer)
    errors: list[str] = field(default_factory=list)

    def run(self, url: str, token: str, start: int, stop: threading.Event) -> None:
        for n in range(BATCHES):
            body = batch("load", {"client": str(self.number)}, start + n * POINTS, POINTS, step=1)
            while not stop.is_set():
                try:
                    answer = ingest(url, token, body, timeout=60)
                except OSError as exc:
                    self.errors.append(f"batch {n}: {exc!r}")
                    return
                self.answers.append((n, answer))
                if answer.status == 200:
                    break
                if answer.status != 503:
                    return
                stop.wait(float(answer.headers.get("retry-after", "5")) / 25)  # sped up for the test

    def statuses(self) -> set[int]:
        return {answer.status for _, answer in self.answers}


def test_batches_land_exactly_once_across_a_postgres_restart(stack):
    token = stack.seed["token"]
    web = stack.web()
    web.wait_until_up()
    start = minute_now() - 8 * 3600
    stop = threading.Event()
    clients = [Client(i) for i in range(CLIENTS)]
    threads = [threading.Thread(target=c.run, args=(web.url, token, start, stop), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: sum(len(c.answers) for c in clients) >= CLIENTS, timeout=60, what="first batches")
        stack.pg.stop()  # fast shutdown: sessions are cut, transactions in flight roll back
        wait_for(lambda: all(503 in c.statuses() for c in clients), timeout=60, what="every client to get a 503")
        read = request(f"{web.url}/api/v1/series", token=token)
        stack.pg.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        stop.set()
    assert (read.status, read.headers.get("retry-after")) == (503, "5")
    for client in clients:
        assert client.errors == []
        assert client.statuses() == {200, 503}
        unavailable = [a for _, a in client.answers if a.status == 503]
        assert all(a.headers.get("retry-after") == "5" for a in unavailable)
        assert all(a.body == {"error": "database unavailable, retry later"} for a in unavailable)
        final = {n: a.body for n, a in client.answers if a.status == 200}
        assert sorted(final) == list(range(BATCHES))
        for body in final.values():  # all or nothing: a retried batch found either none or all of its rows
            assert (body["accepted"], body["duplicates"]) in {(POINTS, 0), (0, POINTS)}
    rows = stack.query(
        "SELECT s.labels->>'client', count(*), count(DISTINCT m.ts) FROM metrics_sample m"
        " JOIN metrics_series s ON s.id = m.series_id GROUP BY 1 ORDER BY 1"
    )
    assert rows == [(str(i), BATCHES * POINTS, BATCHES * POINTS) for i in range(CLIENTS)]
