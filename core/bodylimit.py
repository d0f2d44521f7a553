"""Request body limits of the intake endpoints, enforced before authentication and before reading.

An unauthenticated POST of 1 GB to /api/v1/ingest used to be read and spooled to disk before the
401. Now a declared `Content-Length` over the limit is a 413 before the body is read, and a body
without one (chunked) is read only up to the limit:

- `BodyLimit` wraps the ASGI application (daphne): nothing over the limit reaches Django, which
  would otherwise spool the whole body to a temporary file first;
- `BodyLimitMiddleware` does the same check first thing in Django (WSGI, the test client).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

INGEST_PATHS = ("/api/v1/ingest", "/api/v1/prom/write")
INTAKE_PREFIX = "/api/v1/integrations/"


def limit_for(path: str) -> int | None:
    """The body limit in bytes of the endpoint at `path`, or None when it has no limit of its own."""
    if path in INGEST_PATHS:
        return settings.HIVEOPS_INGEST_MAX_BYTES
    if path.startswith(INTAKE_PREFIX):
        return settings.HIVEOPS_INTAKE_MAX_BYTES
    return None


def refusal(declared: str | None, limit: int) -> tuple[int, dict] | None:
    """(status, body) refusing a declared Content-Length, or None when it is acceptable."""
    if declared is None or declared == "":
        return None
    if not declared.isdigit():
        return 400, {"error": "Content-Length is not a number of bytes", "item": "Content-Length"}
    if int(declared) > limit:
        return 413, too_large(limit)
    return None


def too_large(limit: int) -> dict:
    return {"error": f"request body larger than {limit} bytes", "item": "body", "limit": limit}


class BodyLimitMiddleware:
    """Django middleware: first in MIDDLEWARE, so no session, user or token is looked up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = limit_for(request.path_info)
        if limit is not None:
            refused = refusal(request.META.get("CONTENT_LENGTH"), limit)
            if refused is not None:
                status, body = refused
                return JsonResponse(body, status=status)
        return self.get_response(request)


Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


async def _answer(send: Send, status: int, body: dict) -> None:
    payload = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class BodyLimit:
    """ASGI middleware: refuse an over-limit body before the application (and Django) reads it."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        limit = limit_for(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            return await self.app(scope, receive, send)
        declared = None
        for name, value in scope.get("headers", ()):
            if name.lower() == b"content-length":
                declared = value.decode("latin-1").strip()
        refused = refusal(declared, limit)
        if refused is not None:
            return await _answer(send, *refused)
        if declared is not None:  # the server delivers exactly that many bytes
            return await self.app(scope, receive, send)
        buffered = await _read_capped(receive, limit)
        if buffered is None:
            return await _answer(send, 413, too_large(limit))
        return await self.app(scope, _replay(buffered, receive), send)


async def _read_capped(receive: Receive, limit: int) -> list[dict] | None:
    """The request's messages up to the end of the body, or None as soon as it exceeds `limit`."""
    messages: list[dict] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # the client went away; the application sees that
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[dict], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> dict:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
