"""Clients of the fault tests: HTTP calls that return status, headers and JSON, metric batches,
and a WebSocket client that records what the live socket sends."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.processes import wait_for


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict


def request(url: str, *, method: str = "GET", body: dict | None = None, token: str = "", timeout: float = 30) -> Answer:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            decoded = json.loads(raw) if raw else {}
        except ValueError:
            decoded = {"raw": raw.decode(errors="replace")[:500]}
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, decoded)
    finally:
        conn.close()


def ingest(server_url: str, token: str, body: dict, timeout: float = 30) -> Answer:
    return request(f"{server_url}/api/v1/ingest", method="POST", body=body, token=token, timeout=timeout)


def points(start: int, count: int, step: int = 60, value: float = 10.0) -> list[list[float]]:
    return [[start + i * step, value + (i % 7)] for i in range(count)]


def batch(metric: str, labels: dict[str, str], start: int, count: int, step: int = 60) -> dict:
    return {"series": [{"metric": metric, "labels": labels, "points": points(start, count, step)}]}


def minute_now() -> int:
    return int(time.time()) // 60 * 60


@dataclass
class LiveClient:
    """A WebSocket client of /ws/live/ in a thread, connected as the page does (`?since=`: the
    server answers `ready` once it listens for our teams); `messages` holds every decoded event."""

    url: str
    cookie: str
    messages: list[dict] = field(default_factory=list)
    error: BaseException | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> LiveClient:
        self.connected = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        wait_for(lambda: self.connected.is_set() or self.error, timeout=30, what="the WebSocket to be ready")
        if self.error:
            raise self.error
        return self

    def _run(self) -> None:
        from websockets.sync.client import connect

        parts = urlsplit(self.url)
        origin = f"http://{parts.netloc}"
        try:
            with connect(
                f"ws://{parts.netloc}/ws/live/?since=", origin=origin, additional_headers={"Cookie": self.cookie}
            ) as ws:
                while not self._stop.is_set():
                    try:
                        text = ws.recv(timeout=0.2)
                    except TimeoutError:
                        continue
                    decoded = json.loads(text)
                    self.messages.extend(decoded if isinstance(decoded, list) else [decoded])
                    if self.of_type("ready"):  # sent once the server has joined our teams' groups
                        self.connected.set()
        except BaseException as exc:  # reported to the test
            self.error = exc

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m.get("type") == kind]

    def wait_for(self, predicate, *, timeout: float = 30, what: str = "a live event"):
        def check():
            if self.error:
                raise AssertionError(f"WebSocket failed: {self.error!r}")
            return predicate(self)

        return wait_for(check, timeout=timeout, what=what)

    def close(self) -> None:
        self._stop.set()
