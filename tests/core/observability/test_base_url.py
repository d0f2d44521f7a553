"""HIVEOPS_BASE_URL under `make run`: one value for every process (never derived from the PORT
honcho hands each process), and start-up checks that name the URL when links would be dead."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import base_url
from tests.peers import free_port
from tests.processes import ROOT


def settings_base_url(**env: str) -> str:
    """HIVEOPS_BASE_URL as a fresh process with this environment computes it."""
    clean = {k: v for k, v in os.environ.items() if k not in {"HIVEOPS_BASE_URL", "HIVEOPS_HOST", "HIVEOPS_PORT"}}
    code = "import django; django.setup(); from django.conf import settings; print(settings.HIVEOPS_BASE_URL)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "hive_ops.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_the_default_base_url_follows_the_web_bind_not_the_port_honcho_hands_out():
    assert settings_base_url(PORT="5100", HIVEOPS_HOST="127.0.0.1", HIVEOPS_PORT="8000") == "http://127.0.0.1:8000"
    wildcard = "0.0.0.0"  # noqa: S104
    assert settings_base_url(PORT="5100", HIVEOPS_HOST=wildcard, HIVEOPS_PORT="9000") == "http://127.0.0.1:9000"


def test_make_run_gives_every_process_the_same_base_url_and_turns_development_mode_on():
    clean = {k: v for k, v in os.environ.items() if k not in {"HIVEOPS_BASE_URL", "PORT", "HOST"}}
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "run-env", "PORT=9123"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    run_env = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert run_env["HIVEOPS_BASE_URL"] == "http://127.0.0.1:9123"
    assert (run_env["HIVEOPS_HOST"], run_env["HIVEOPS_PORT"]) == ("127.0.0.1", "9123")
    assert run_env["DEBUG"] == "true"
    assert run_env["HIVEOPS_MAILSINK"] == "true"
    assert (run_env["EMAIL_HOST"], run_env["EMAIL_PORT"]) == ("127.0.0.1", "8025")
    procfile = (ROOT / "Procfile").read_text()
    assert "core.webserver --host $HIVEOPS_HOST --port $HIVEOPS_PORT" in procfile
    assert "mailsink --host $EMAIL_HOST --port $EMAIL_PORT" in procfile
    assert "$PORT" not in procfile


@pytest.mark.parametrize(
    ("url", "host", "port", "problem"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1", 8000, None),
        ("http://localhost:8000", "0.0.0.0", 8000, None),  # noqa: S104
        ("https://ops.example.com", "127.0.0.1", 8000, None),  # behind a reverse proxy
        ("http://127.0.0.1:5000", "127.0.0.1", 8000, "listens on port 8000"),
        ("http://127.0.0.1:8000", "10.0.0.5", 8000, "listens on 10.0.0.5 only"),
        ("http://10.0.0.5", "10.0.0.5", 8000, "uses port 80"),
    ],
)
def test_the_web_process_sees_a_base_url_that_misses_its_bind(url, host, port, problem):
    found = base_url.bind_mismatch(base_url=url, host=host, port=port)
    assert (found is None) if problem is None else (problem in found)


def test_the_web_process_warns_naming_the_base_url(settings, caplog):
    settings.HIVEOPS_BASE_URL = "http://127.0.0.1:5000"
    with caplog.at_level(logging.WARNING, logger="core.base_url"):
        assert base_url.warn_if_bind_differs({"HIVEOPS_HOST": "127.0.0.1", "HIVEOPS_PORT": "8000"})
    assert "HIVEOPS_BASE_URL http://127.0.0.1:5000 does not point at this web process" in caplog.text
    assert base_url.warn_if_bind_differs({}) is None  # bind unknown (not started by the Procfile)


def test_a_worker_warns_when_the_base_url_does_not_answer(caplog):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with caplog.at_level(logging.INFO, logger="core.base_url"):
        assert base_url.check(process="worker", base_url=url, attempts=2, interval=0.01)
    assert f"worker: HIVEOPS_BASE_URL {url} does not answer" in caplog.text
    assert "links in notifications will be dead" in caplog.text


@pytest.fixture
def health_server():
    statuses = {"/healthz": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(statuses.get(self.path, 404))
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", statuses
    server.shutdown()


def test_a_worker_says_so_when_the_base_url_answers(health_server, caplog):
    url, _ = health_server
    with caplog.at_level(logging.INFO, logger="core.base_url"):
        assert base_url.check(process="beat", base_url=url, attempts=1) is None
    assert f"beat: HIVEOPS_BASE_URL {url} answers" in caplog.text
    assert "does not answer" not in caplog.text


def test_a_base_url_whose_host_is_refused_is_reported_with_a_hint(health_server):
    url, statuses = health_server
    statuses["/healthz"] = 400
    assert base_url.probe(url) == f"GET {url}/healthz answered 400 (is its host in ALLOWED_HOSTS?)"


def test_the_check_can_be_turned_off(settings):
    settings.HIVEOPS_BASE_URL_CHECK_DELAY_S = 0
    assert base_url.check_later("worker") is None
