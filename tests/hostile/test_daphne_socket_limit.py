"""Over-limit intake bodies are refused by the real daphne at the socket: a declared 1 GB body
gets its 413 after the headers alone, and a chunked body is cut off once it passes the limit,
instead of being spooled to disk before the application sees it."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

import pytest

from tests.browser import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)
MB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_blocker):
    with django_db_blocker.unblock(), daphne_server(log_path=tmp_path_factory.mktemp("daphne") / "log") as running:
        running.wait_until_up()
        yield urlparse(running.url)


def _connect(server) -> socket.socket:
    sock = socket.create_connection((server.hostname, server.port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    return sock


def _response(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def test_a_declared_gigabyte_is_refused_after_the_headers(server):
    sock = _connect(server)
    started = time.monotonic()
    sock.sendall(
        b"POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1073741824\r\n\r\n{"
    )
    answer = _response(sock)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"item":"body"' in answer
    assert time.monotonic() - started < 5  # not after reading a gigabyte


def test_a_chunked_body_is_cut_off_at_the_limit(server):
    sock = _connect(server)
    sock.sendall(
        b"POST /api/v1/integrations/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (MB, b" " * MB)
    sent = 0
    try:
        for _ in range(200):  # 200 MB offered; the intake limit is 1 MB
            sock.sendall(chunk)
            sent += MB
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert sent < 50 * MB  # the server stopped reading long before the end
    answer = _response(sock)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413")


def test_a_normal_request_still_works(server):
    sock = _connect(server)
    sock.sendall(b"POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    assert _response(sock).startswith(b"HTTP/1.1 401")  # on to authentication, as before
