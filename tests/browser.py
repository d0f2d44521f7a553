"""Browser-test helpers: a real daphne server (HTTP and WebSockets) on the test database, and Chromium.

pytest-django's `live_server` is WSGI only, so pages that use the live WebSocket are served by a
daphne subprocess. It reads the pytest test database (mark tests `django_db(transaction=True)` so
what they create is committed and visible to it) and gets its own Redis database, so its channel
groups never mix with those of a development server.

Playwright's sync API keeps an asyncio loop running in the main thread while a browser is open,
and Django then refuses ORM calls (SynchronousOnlyOperation) although nothing runs concurrently:
`chromium()` allows them (DJANGO_ALLOW_ASYNC_UNSAFE) for as long as the browser is open.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DAPHNE = Path(sys.executable).with_name("daphne")
SERVER_REDIS_DB = int(
    os.environ.get("TEST_SERVER_REDIS_DB", "14")
)  # channel layer and cache of the test server (a development server uses 0)

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"browser test: no Chromium at {CHROMIUM} (scripts/chromium.sh installs it)"
)


def database_url(alias: str = "default") -> str:
    """DATABASE_URL of the database pytest-django set up (once django_db_setup has run)."""
    db = connections[alias].settings_dict
    auth = quote(db["USER"], safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


def redis_url(db: int) -> str:
    return urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{db}"))


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path
    up: bool = False

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_until_up(self, timeout: float = 30.0) -> str:
        """Block until the server answers (it starts in the background); returns its URL."""
        deadline = time.monotonic() + timeout
        while not self.up:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.process.returncode}:\n{self.log_tail()}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"daphne did not answer within {timeout:.0f} s:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/login/", timeout=min(remaining, 5)) as response:
                    self.up = response.status == 200
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        return self.url


@contextlib.contextmanager
def daphne_server(*, log_path: Path, port: int = 0) -> Iterator[Server]:
    """Start `daphne hive_ops.asgi:application` on the test database; stop it when the block ends.

    The listening socket is bound here and handed over with --fd: no race for a free port, and
    requests wait in the backlog until daphne is ready. It starts in the background: call
    `wait_until_up()` before using it.
    """
    if not DAPHNE.exists():
        pytest.skip(f"browser test: no daphne at {DAPHNE}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restarted server keeps its port (origin)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hive_ops.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url(SERVER_REDIS_DB),
        "CELERY_BROKER_URL": redis_url(SERVER_REDIS_DB),
        # One installation with this process: live events it publishes reach the server's sockets.
        "HIVEOPS_INSTALLATION": settings.HIVEOPS_INSTALLATION,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(DAPHNE), "--fd", str(sock.fileno()), "hive_ops.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=[sock.fileno()],
        )
    server = Server(url=f"http://127.0.0.1:{sock.getsockname()[1]}", process=process, log_path=log_path)
    sock.close()
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium (Debian's, driven by Playwright: no `playwright install`)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser test: playwright is not installed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see the module docstring
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()


def log_in(page, *, username: str, password: str) -> None:
    """Open the front page, get sent to the login form, fill it in and land on the front page."""
    from playwright.sync_api import expect

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"), timeout=15_000)  # password hashing is slow


def post_json(url: str, body: dict, *, token: str, timeout: float = 10) -> tuple[int, dict]:
    """POST a JSON body with a bearer token; returns the status and the decoded JSON answer."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


ARTIFACTS = Path(os.environ.get("HIVEOPS_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / ".artifacts"))


def artifact(name: str) -> Path:
    """Where browser tests keep screenshots (`.artifacts/`, git-ignored; CI can collect it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


@contextlib.contextmanager
def celery_worker(*, log_path: Path) -> Iterator[subprocess.Popen]:
    """A real Celery worker on the test database and the test server's Redis (broker and channel
    layer), so tasks queued by the daphne server run as in production."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hive_ops.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url(SERVER_REDIS_DB),
        "CELERY_BROKER_URL": redis_url(SERVER_REDIS_DB),
        # One installation with this process: live events it publishes reach the server's sockets.
        "HIVEOPS_INSTALLATION": settings.HIVEOPS_INSTALLATION,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    celery = Path(sys.executable).with_name("celery")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(celery),
                "-A",
                "hive_ops",
                "worker",
                "-P",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "WARNING",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
