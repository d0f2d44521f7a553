"""Item 8: an over-limit body is refused from its Content-Length before any authentication work,
and a body without one is read only up to the limit (the ASGI application daphne runs)."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from hive_ops.asgi import application

INTAKE_PATHS = [
    "/api/v1/ingest",
    "/api/v1/prom/write",
    "/api/v1/integrations/alertmanager",
    "/api/v1/integrations/webhook",
    "/api/v1/integrations/pagerduty/enqueue",
    "/api/v1/integrations/pagerduty/change/enqueue",
]
GIGABYTE = 1024**3


@pytest.mark.django_db
@pytest.mark.parametrize("path", INTAKE_PATHS)
def test_a_declared_huge_body_is_a_413_before_authentication(path, settings):
    with CaptureQueriesContext(connection) as queries:
        response = APIClient().generic(
            "POST", path, b"{}", content_type="application/json", CONTENT_LENGTH=str(GIGABYTE)
        )
    assert response.status_code == 413
    body = response.json()
    assert body["item"] == "body"
    limit = settings.HIVEOPS_INGEST_MAX_BYTES if "integrations" not in path else settings.HIVEOPS_INTAKE_MAX_BYTES
    assert body["limit"] == limit
    assert str(limit) in body["error"]
    assert len(queries) == 0  # no token, key or session was looked up


@pytest.mark.django_db
def test_a_garbage_content_length_is_a_400_naming_it():
    response = APIClient().generic("POST", "/api/v1/ingest", b"{}", CONTENT_LENGTH="12abc")
    assert response.status_code == 400
    assert response.json()["item"] == "Content-Length"


@pytest.mark.django_db
def test_a_body_at_the_intake_limit_still_reaches_the_view(settings):
    settings.HIVEOPS_INTAKE_MAX_BYTES = 64
    client = APIClient()
    small = client.post("/api/v1/integrations/webhook", {"summary": "x"}, format="json")
    large = client.post("/api/v1/integrations/webhook", {"summary": "x" * 100}, format="json")
    assert (small.status_code, large.status_code) == (401, 413)


class Upload:
    """An ASGI client sending a body in chunks, counting how much of it the application read."""

    def __init__(self, chunk: int, chunks: int) -> None:
        self.chunk, self.left, self.read = chunk, chunks, 0
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if self.left == 0:
            await asyncio.sleep(3600)  # the client waits for the answer
        self.left -= 1
        self.read += self.chunk
        return {"type": "http.request", "body": b"x" * self.chunk, "more_body": self.left > 0}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    def status(self) -> int:
        return next(m["status"] for m in self.sent if m["type"] == "http.response.start")


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


def test_the_asgi_app_refuses_a_declared_huge_body_without_reading_it():
    upload = Upload(chunk=65536, chunks=16384)  # 1 GB on offer
    scope = _scope("/api/v1/ingest", [(b"content-length", str(GIGABYTE).encode())])
    asyncio.run(asyncio.wait_for(application(scope, upload.receive, upload.send), 10))
    assert upload.status() == 413
    assert upload.read == 0


def test_the_asgi_app_stops_reading_a_chunked_body_at_the_limit(settings):
    upload = Upload(chunk=65536, chunks=16384)  # 1 GB on offer, no Content-Length
    scope = _scope("/api/v1/integrations/pagerduty/enqueue", [(b"transfer-encoding", b"chunked")])
    asyncio.run(asyncio.wait_for(application(scope, upload.receive, upload.send), 10))
    assert upload.status() == 413
    assert upload.read <= settings.HIVEOPS_INTAKE_MAX_BYTES + 65536
