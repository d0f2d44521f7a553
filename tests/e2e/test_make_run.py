"""The paging loop as `make run` runs it: the Procfile's web, worker, beat and mail sink started by
honcho with the environment the Makefile gives them (`make run-env`), on a private database and
Redis. An alert raised through ingest pages a person at a real HTTP server (a webhook contact
method) and by email into the mail sink; the links in the notification start with the
HIVEOPS_BASE_URL the Makefile set and reach the web process: the acknowledge link shows a
confirmation page and acknowledges on POST, the incident link asks for a login and then shows the
incident. The incident ends acknowledged by that person, and its timeline names them."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.faults.clients import ingest, minute_now
from tests.peers import start_http_peer
from tests.processes import ROOT, free_port, wait_for

pytestmark = pytest.mark.slow

PROCESSES = ["web", "worker", "beat", "mail"]  # the Procfile's, without the demo data generator
ADDRESS = "alice@e2e.localhost"
SETUP = """
from datetime import timedelta as td
from django.contrib.auth import get_user_model
from alerts.models import AlertRule
from paging.models import ContactMethod, EscalationLevel, EscalationPolicy, EscalationRoute, NotificationRule
alice = get_user_model().objects.get(username="alice")
AlertRule.objects.create(team_id={team}, name="e2e latency", metric="e2e_latency_ms", aggregation="avg",
                         window=td(minutes=3), critical_threshold=400.0, summary_template="latency {{{{ value }}}} ms")
hook = ContactMethod.objects.create(user=alice, kind="webhook", address="{hook}")
mail = ContactMethod.objects.create(user=alice, kind="email", address="{address}")
for urgency in ("high", "low"):
    NotificationRule.objects.create(user=alice, urgency=urgency, position=0, contact_method=hook)
    NotificationRule.objects.create(user=alice, urgency=urgency, position=1, contact_method=mail)
policy = EscalationPolicy.objects.create(team_id={team}, name="e2e")
level = EscalationLevel.objects.create(policy=policy, position=1, wait=td(minutes=5))
level.users.add(alice)
EscalationRoute.objects.create(team_id={team}, policy=policy, is_default=True)
result = alice.pk
"""


def make_run_env(port: int, mail_port: int) -> dict[str, str]:
    """What `make run` exports to its processes, asked from the Makefile itself."""
    clean = {k: v for k, v in os.environ.items() if k not in {"HIVEOPS_BASE_URL", "HOST", "PORT", "MAIL_PORT"}}
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "run-env", "HOST=127.0.0.1", f"PORT={port}", f"MAIL_PORT={mail_port}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


@dataclass
class Honcho:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM honcho (it stops its processes); anything it left behind is killed by pid."""
        children = [int(pid) for pid in re.findall(r"started \(pid=(\d+)\)", self.log())]
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for pid in children:  # each Procfile process leads its own process group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def honcho_start(env: dict[str, str], log_path: Path) -> Honcho:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(ROOT / ".venv/bin/honcho"), "start", "-f", "Procfile", "--no-colour", *PROCESSES],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Honcho(process=process, log_path=log_path)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_an_alert_raised_through_ingest_pages_a_person_whose_links_reach_the_web_process(stack, tmp_path):
    peer = start_http_peer()
    alice_id = stack.django(SETUP.format(team=stack.seed["team_id"], hook=f"{peer.url}/page", address=ADDRESS))
    run_env = make_run_env(port=free_port(), mail_port=free_port())
    base_url = run_env["HIVEOPS_BASE_URL"]
    assert base_url == f"http://127.0.0.1:{run_env['HIVEOPS_PORT']}"
    assert run_env["DEBUG"] == "true"
    (tmp_path / "prometheus").mkdir()
    env = stack.env(
        **{**run_env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus")},
        SECRET_KEY="e2e-" + "k" * 60,  # web and workers sign and check the same links
        HIVEOPS_RUN_DIR=str(tmp_path / "run"),
        HIVEOPS_BASE_URL_CHECK_DELAY_S="1",
        LOG_LEVEL="INFO",
    )
    honcho = honcho_start(env, tmp_path / "honcho.log")
    try:
        wait_for(lambda: answers(f"{base_url}/healthz"), timeout=90, interval=0.5, what=f"the web at {base_url}")
        wait_for(lambda: " ready." in honcho.log(), timeout=90, interval=0.5, what="the worker to be ready")
        _raise_alert(stack, base_url)
        page = wait_for(lambda: peer.received, timeout=120, interval=0.5, what="the webhook page")[0].json()
        _follow_the_links(page, base_url, stack)

        incident = stack.query("SELECT status, acknowledged_by_id FROM alerts_incident")
        assert incident == [("acknowledged", alice_id)]
        # The timeline names the person who tapped the link. If it says "system", the ack link did
        # not carry the person (the lead's change binding links to person and episode fixes it).
        timeline = stack.query("SELECT actor_id, actor_name FROM alerts_incidentevent WHERE kind = 'acknowledged'")
        assert timeline == [(alice_id, "alice")]

        mail = wait_for(
            lambda: stack.query("SELECT recipients::text, subject, text FROM mailsink_sentmail"),
            timeout=60,
            interval=0.5,
            what="the email page in the mail sink",
        )
        assert ADDRESS in mail[0][0]
        assert f"{base_url}/ack/" in mail[0][2]
        checks = wait_for(
            lambda: re.findall(r"(worker|beat): HIVEOPS_BASE_URL (\S+) answers", honcho.log()),
            timeout=60,
            interval=0.5,
            what="the start-up check of the base URL",
        )
        assert all(url == base_url for _, url in checks)
        assert "does not answer" not in honcho.log()
    finally:
        honcho.stop()
        peer.server.shutdown()


def _raise_alert(stack, base_url: str) -> None:
    end = minute_now()
    points = [[end - 60 * i, 900.0] for i in range(5, -1, -1)]
    body = {"series": [{"metric": "e2e_latency_ms", "labels": {"service": "checkout"}, "points": points}]}
    answer = ingest(base_url, stack.seed["token"], body)
    assert answer.status in (200, 202), answer.body


def _follow_the_links(page: dict, base_url: str, stack) -> None:
    ack_link, incident_link = page["acknowledge_url"], page["incident"]["url"]
    assert ack_link.startswith(f"{base_url}/ack/")
    assert incident_link.startswith(f"{base_url}/incidents/")

    confirm = requests.get(ack_link, timeout=30)
    assert confirm.status_code == 200
    assert 'id="ack"' in confirm.text  # one button; a GET (link preview, mail scanner) changes nothing
    assert stack.query("SELECT status FROM alerts_incident") == [("triggered",)]
    done = requests.post(ack_link, timeout=30)
    assert done.status_code == 200
    assert "Acknowledged" in done.text

    anonymous = requests.get(incident_link, timeout=30, allow_redirects=False)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login/")
    browser = requests.Session()
    browser.get(f"{base_url}/login/", timeout=30)
    login = browser.post(
        f"{base_url}/login/",
        data={"username": "alice", "password": "pw-alice-1234", "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{base_url}/login/"},
        timeout=30,
    )
    assert login.status_code == 200
    shown = browser.get(incident_link, timeout=30)
    assert shown.status_code == 200
    assert page["incident"]["title"] in shown.text
