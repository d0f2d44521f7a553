"""Real clients of /alertmanager/api/v2/: Debian's Prometheus 2.42 with HiveOps as its
Alertmanager (api_version v2, path_prefix /alertmanager, bearer token) raises a HiveOps alert
when its rule fires and resolves it when the rule stops; Debian's amtool 0.25 adds, queries and
expires a silence that mutes that alert.

Prometheus scrapes a one-line exporter served by the test (`flag 1`, later `flag 0`); its rule
`flag > 0` fires within a few seconds (1 s scrape and evaluation intervals)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from alerts.models import Alert

PROMETHEUS = shutil.which("prometheus")
AMTOOL = shutil.which("amtool")
pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Flag(BaseHTTPRequestHandler):
    value = 1

    def do_GET(self):
        body = f"# TYPE flag gauge\nflag {Flag.value}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def exporter():
    Flag.value = 1
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flag)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def wait_for(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.5)
    return None


@pytest.fixture
def prometheus(tmp_path, live_server, exporter, make_token, team):
    if PROMETHEUS is None:
        pytest.skip("prometheus missing (apt-get install prometheus)")
    token = make_token(team, ("ingest",))
    target = urlsplit(live_server.url).netloc
    (tmp_path / "rules.yml").write_text(
        "groups:\n- name: hiveops-test\n  rules:\n  - alert: FlagUp\n    expr: flag > 0\n"
        "    labels: {severity: critical}\n    annotations: {summary: the flag is up}\n"
    )
    (tmp_path / "prometheus.yml").write_text(
        f"""global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{tmp_path / "rules.yml"}]
scrape_configs:
  - job_name: flag
    static_configs: [{{targets: ["127.0.0.1:{exporter}"]}}]
alerting:
  alertmanagers:
    - api_version: v2
      path_prefix: /alertmanager
      authorization: {{credentials: "{token}"}}
      static_configs: [{{targets: ["{target}"]}}]
"""
    )
    log = open(tmp_path / "prometheus.log", "wb")  # noqa: SIM115  closed below
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{free_port()}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield tmp_path / "prometheus.log"
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def amtool(url: str, *args: str) -> str:
    done = subprocess.run([AMTOOL, f"--alertmanager.url={url}", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_prometheus_raises_and_resolves_and_amtool_silences(prometheus, live_server, make_token, team):
    started = time.monotonic()
    alert = wait_for(lambda: Alert.objects.filter(team=team, labels__alertname="FlagUp").first(), 60)
    assert alert is not None, prometheus.read_text()[-3000:]
    raised_after = time.monotonic() - started
    assert raised_after < 30, raised_after  # includes Prometheus' start-up
    assert alert.status == "firing"
    assert alert.labels["job"] == "flag"

    if AMTOOL is not None:
        url = f"http://amtool:{make_token(team, ('read', 'write'))}@{urlsplit(live_server.url).netloc}/alertmanager"
        silence_id = amtool(url, "silence", "add", "alertname=FlagUp", "--comment=deploying", "--duration=1h").strip()
        assert wait_for(lambda: Alert.objects.get(pk=alert.pk).muted == "silenced", 10)
        assert silence_id in amtool(url, "silence", "query", "-q")
        assert "FlagUp" in amtool(url, "alert", "query", "--silenced")
        amtool(url, "silence", "expire", silence_id)
        assert wait_for(lambda: Alert.objects.get(pk=alert.pk).muted == "", 10)
        assert silence_id not in amtool(url, "silence", "query", "-q")

    Flag.value = 0
    stopped = time.monotonic()
    resolved = wait_for(lambda: Alert.objects.get(pk=alert.pk).status == "resolved", 60)
    assert resolved, prometheus.read_text()[-3000:]
    print(f"raised {raised_after:.1f} s after Prometheus started; resolved {time.monotonic() - stopped:.1f} s after")
