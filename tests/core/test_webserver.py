"""core/webserver.py: several daphne processes answer on one port and stop together."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from core import webserver


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def free_port() -> int:
    for _ in range(50):
        port = random.randint(8800, 8999)
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 8800-8999")


def test_processes_default_to_the_setting_then_the_cores(monkeypatch):
    monkeypatch.setenv("WEB_PROCESSES", "3")
    assert webserver.default_processes() == 3
    monkeypatch.delenv("WEB_PROCESSES")
    assert webserver.default_processes() == max(1, os.cpu_count() or 1)


def test_two_processes_answer_on_one_port_and_stop_together(db, tmp_path):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hive_ops.settings", "LOG_LEVEL": "WARNING"}
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL", "")
    env["DATABASE_URL"] = env["DATABASE_URL"] or f"postgres://127.0.0.1:5432/{settings.DATABASES['default']['NAME']}"
    with (tmp_path / "web.log").open("wb") as log:
        launcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "core.webserver",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--processes",
                "2",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    status = response.status
            except OSError:
                time.sleep(0.5)
        assert status == 200, (tmp_path / "web.log").read_text()[-2000:]
        workers = children(launcher.pid)
        assert len(workers) == 2
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)  # stopped and reaped
    finally:
        if launcher.poll() is None:
            launcher.kill()
