"""metrics/export_flow.py: a streamed response waits while Twisted has paused its producer."""

from __future__ import annotations

import asyncio
import functools

from asgiref.sync import async_to_sync

from metrics.export_flow import FlowControl


class FakeRequest:
    """What daphne hands over: a Twisted request that takes a push producer."""

    def __init__(self) -> None:
        self.producer = None
        self.finished = False
        self.channel = object()
        self.written: list[bytes] = []
        self.unregistered = False

    def registerProducer(self, producer, streaming) -> None:
        assert streaming
        self.producer = producer

    def unregisterProducer(self) -> None:
        self.producer = None
        self.unregistered = True


async def handle_reply(request: FakeRequest, message: dict) -> None:
    if message["type"] == "http.response.body":
        request.written.append(message["body"])
        if len(request.written) == 1:
            request.producer.pauseProducing()  # the socket buffer is full after the first chunk


def test_a_paused_stream_waits_until_twisted_resumes_it():
    request = FakeRequest()
    send = functools.partial(handle_reply, request)

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def run() -> list[bytes]:
        task = asyncio.ensure_future(FlowControl(app)({"type": "http"}, None, send))
        await asyncio.sleep(0.05)
        seen_while_paused = list(request.written)
        request.producer.resumeProducing()
        await task
        return seen_while_paused

    assert async_to_sync(run)() == [b"a"]  # b waited for the resume
    assert request.written == [b"a", b"b", b""]
    assert request.unregistered  # the producer is removed before the last chunk


def test_other_servers_pass_through():
    sent = []

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        await send({"type": "http.response.body", "body": b"x", "more_body": True})

    async_to_sync(FlowControl(app))({"type": "http"}, None, send)
    assert sent == [{"type": "http.response.body", "body": b"x", "more_body": True}]
