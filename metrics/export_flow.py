"""Back-pressure for streamed responses under daphne.

daphne writes every body chunk an ASGI application sends straight into Twisted's transport and
returns at once, so a client that reads slower than an export is produced makes the server
buffer the difference in memory, up to the whole file. This ASGI wrapper registers a Twisted
push producer on the request for responses that stream (`more_body`), and after each chunk waits
while Twisted has paused it (its write buffer is full), so an export goes at the client's pace
with a bounded buffer. Other servers, and responses sent in one piece, pass through untouched.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

CHECK_S = 1.0  # while paused, look this often whether the connection is gone


@implementer(IPushProducer)
class _Producer:
    def __init__(self) -> None:
        self.resumed = asyncio.Event()
        self.resumed.set()

    def pauseProducing(self) -> None:
        self.resumed.clear()

    def resumeProducing(self) -> None:
        self.resumed.set()

    def stopProducing(self) -> None:
        self.resumed.set()


def _twisted_request(send: Any) -> Any:
    """daphne's request object behind its `send` (a partial of handle_reply), or None."""
    if isinstance(send, functools.partial) and send.args and hasattr(send.args[0], "registerProducer"):
        return send.args[0]
    return None


class FlowControl:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        request = _twisted_request(send) if scope["type"] == "http" else None
        if request is None:
            await self.app(scope, receive, send)
            return
        producer: _Producer | None = None

        async def paced_send(message: dict) -> None:
            nonlocal producer
            streaming = message["type"] == "http.response.body" and message.get("more_body", False)
            if streaming and producer is None and request.producer is None:
                producer = _Producer()
                try:
                    request.registerProducer(producer, True)
                except (RuntimeError, ValueError):  # the channel has a producer already: no pacing
                    producer = None
            if message["type"] == "http.response.body" and not streaming and producer is not None:
                if request.producer is producer:
                    request.unregisterProducer()
                producer = None
            await send(message)
            while producer is not None and not producer.resumed.is_set():
                if request.finished or request.channel is None:
                    return
                try:
                    await asyncio.wait_for(producer.resumed.wait(), CHECK_S)
                except TimeoutError:
                    continue

        await self.app(scope, receive, paced_send)
