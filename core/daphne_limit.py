"""Body limits at the socket, for daphne.

Twisted (under daphne) reads a request's whole body, spooling it to a temporary file, before
daphne hands the request to the ASGI application, so `core.bodylimit.BodyLimit` alone
would still let a 1 GB POST be received in full. This request class, installed into daphne
when `hive_ops.asgi` loads, answers 413 as soon as the headers declare an over-limit
`Content-Length`, and stops a chunked body once it passes the limit, closing the connection in
both cases. It replaces `daphne.http_protocol.WebRequest` (daphne 4.2, pinned), which daphne's
factory looks up each time it builds a connection.
"""

from __future__ import annotations

import orjson
from daphne import http_protocol

from core.bodylimit import limit_for, refusal, too_large

REASONS = {400: b"Bad Request", 413: b"Payload Too Large"}


class LimitedWebRequest(http_protocol.WebRequest):
    _limit: int | None = None
    _received = 0
    _refused = False

    def gotLength(self, length: int | None) -> None:  # Twisted's name
        path = (getattr(self.channel, "_path", b"") or b"").split(b"?", 1)[0].decode("latin-1")
        self._limit = limit_for(path)
        refused = refusal(str(length), self._limit) if self._limit is not None and length is not None else None
        super().gotLength(None if refused else length)  # a refused body gets an empty in-memory buffer
        if refused is not None:
            self._refuse(*refused)

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return
        self._received += len(data)
        if self._limit is not None and self._received > self._limit:
            self._refuse(413, too_large(self._limit))
            return
        super().handleContentChunk(data)

    def process(self) -> None:
        if not self._refused:
            super().process()

    def _refuse(self, status: int, body: dict) -> None:
        """Answer on the raw transport and close: nothing more of the body is read."""
        self._refused = True
        payload = orjson.dumps(body)
        head = (
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (status, REASONS[status], len(payload))
        )
        self.channel.transport.write(head + payload)
        self.channel.transport.loseConnection()
        self.channel.transport.pauseProducing()


def install() -> None:
    http_protocol.WebRequest = LimitedWebRequest
