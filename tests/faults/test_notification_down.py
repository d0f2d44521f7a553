"""A webhook endpoint that is down, with a real worker delivering: the delivery is retried with
backoff; if the endpoint comes back it gets the message once, otherwise the notification ends
`failed` with the reason, the channel is marked failing and the team gets an internal alert.
Nothing is dropped silently."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.faults.clients import request
from tests.processes import free_port, wait_for

SETUP = """
from datetime import timedelta as td
from paging.models import EscalationLevel, EscalationPolicy, EscalationRoute, NotificationChannel
policy = EscalationPolicy.objects.create(team_id={team}, name="p")
channel = NotificationChannel.objects.create(team_id={team}, kind="webhook", name="hook", config={{"url": "{url}"}})
level = EscalationLevel.objects.create(policy=policy, position=1, wait=td(minutes=5))
level.channels.add(channel)
EscalationRoute.objects.create(team_id={team}, policy=policy, is_default=True)
"""


class Peer:
    """An HTTP endpoint on a fixed port that can be started late; counts the POSTs it gets."""

    def __init__(self, port: int) -> None:
        self.port, self.posts, self.server = port, [], None

    def start(self) -> None:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                peer.posts.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def raise_alert(stack, web_url: str) -> None:
    answer = request(
        f"{web_url}/api/v1/integrations/webhook",
        method="POST",
        body={"summary": "disk full", "severity": "critical", "labels": {"host": "db1"}},
        token=stack.seed["webhook_key"],
    )
    assert answer.status == 200, answer.body


def notification(stack) -> tuple[str, int, str] | None:
    rows = stack.query("SELECT status, attempts, error FROM alerts_notification WHERE kind = 'webhook'")
    return rows[0] if rows else None


def start(stack, peer: Peer, attempts: int):
    stack.django(SETUP.format(team=stack.seed["team_id"], url=f"http://127.0.0.1:{peer.port}/hook"))
    env = {"HIVEOPS_DELIVERY_MAX_ATTEMPTS": str(attempts)}
    web, worker = stack.web(**env), stack.worker(**env)
    web.wait_until_up()
    worker.wait_until_ready()
    raise_alert(stack, web.url)


def test_a_delivery_to_an_endpoint_that_comes_back_is_retried_and_sent_once(stack):
    peer = Peer(free_port())
    start(stack, peer, attempts=5)
    first = wait_for(
        lambda: (n := notification(stack)) and n[1] >= 1 and n[0] == "retrying" and n,
        timeout=60,
        what="a failed first attempt",
    )
    assert "refused" in first[2].lower() or "connect" in first[2].lower()
    peer.start()
    try:
        wait_for(lambda: notification(stack)[0] == "sent", timeout=60, what="the retry to be sent")
    finally:
        peer.stop()
    assert len(peer.posts) == 1
    status, attempts, error = notification(stack)
    assert (status, error) == ("sent", "")
    assert attempts >= 2


def test_an_endpoint_that_stays_down_ends_in_a_visible_failure(stack):
    peer = Peer(free_port())  # never started
    start(stack, peer, attempts=3)
    wait_for(
        lambda: notification(stack) and notification(stack)[0] == "failed",
        timeout=90,
        interval=0.5,
        what="the delivery to give up",
    )
    _, attempts, error = notification(stack)
    assert attempts == 3
    assert error.startswith("gave up after 3 attempts")
    channel = stack.query("SELECT failing_since IS NOT NULL, last_error FROM alerts_notificationchannel")
    assert channel[0][0] is True
    assert channel[0][1]
    internal = stack.query("SELECT summary FROM alerts_alert WHERE labels->>'alertname' = 'NotificationChannelFailing'")
    assert len(internal) == 1
    assert internal[0][0].startswith("Notifications to hook are failing")
