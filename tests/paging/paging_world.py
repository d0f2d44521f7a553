"""The world the paging state machine drives: one team with a service, a threshold rule over two
series, an escalation policy (a person, then a webhook channel, repeated once) and a real local
HTTP server that receives every delivery and tells which notification it was."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta as td
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
from django.core import signing

from alerts.models import AlertRule
from catalog.models import Service
from paging.links import SALT
from paging.models import (
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EscalationRoute,
    NotificationChannel,
    NotificationRule,
)
from tests.alerts.factories import rule as make_rule
from tests.alerts.factories import service as make_service

THRESHOLD = 90.0
BREACH, CLEAR = 95.0, 50.0
HOSTS = ("a", "b")


@dataclass
class Receipt:
    """One POST the receiver got: which notification it carried and what it answered."""

    path: str
    notification_id: int
    status: int

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Receiver:
    """A webhook receiver that records, in arrival order, the notification id of each message
    (from its signed acknowledge link) and the status it answered; `fail_next` holds statuses to
    answer before going back to 200."""

    server: ThreadingHTTPServer
    receipts: list[Receipt] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Event = field(default_factory=threading.Event)
    hold: threading.Event | None = None  # when set, a message waits for it before being answered

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self.lock:
            self.receipts.clear()
            self.fail_next.clear()

    def accepted(self) -> int:
        with self.lock:
            return sum(r.accepted for r in self.receipts)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def notification_of(body: bytes) -> int:
    """The notification id a webhook message was sent for (its one-tap link is signed with it)."""
    token = orjson.loads(body)["acknowledge_url"].rstrip("/").rsplit("/", 1)[-1]
    return signing.TimestampSigner(salt=SALT).unsign_object(token)["n"]


def receiver_start() -> Receiver:
    receiver: Receiver | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.arrived.set()
            if receiver.hold is not None:
                receiver.hold.wait(timeout=30)
            with receiver.lock:  # record before answering: the sender returns after this
                status = receiver.fail_next.pop(0) if receiver.fail_next else 200
                receiver.receipts.append(Receipt(self.path, notification_of(body), status))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@dataclass
class World:
    team: object
    person: object
    service: Service
    rule: AlertRule
    channel: NotificationChannel
    receiver: Receiver


def world_build(*, team, person, receiver: Receiver) -> World:
    """Level 1 pages `person` (a push webhook at once, a second one 2 minutes later), level 2 a
    team webhook channel; 5 minutes between levels; the levels repeat once. A default route."""
    service = make_service(team)
    rule = make_rule(team, service=service, critical_threshold=THRESHOLD)
    person.email = "oncall@example.com"
    person.save()
    push = ContactMethod.objects.create(user=person, kind="webhook", address=f"{receiver.url}/push")
    later = ContactMethod.objects.create(user=person, kind="webhook", address=f"{receiver.url}/push-later")
    for urgency in ("high", "low"):
        NotificationRule.objects.create(user=person, urgency=urgency, position=0, contact_method=push)
        NotificationRule.objects.create(
            user=person, urgency=urgency, position=1, contact_method=later, delay=td(minutes=2)
        )
    channel = NotificationChannel.objects.create(
        team=team, kind="webhook", name="ops hook", config={"url": f"{receiver.url}/channel"}
    )
    policy = EscalationPolicy.objects.create(team=team, name="paging", repeat=1)
    first = EscalationLevel.objects.create(policy=policy, position=1, wait=td(minutes=5))
    first.users.add(person)
    second = EscalationLevel.objects.create(policy=policy, position=2, wait=td(minutes=5))
    second.channels.add(channel)
    EscalationRoute.objects.create(team=team, policy=policy, is_default=True)
    return World(team=team, person=person, service=service, rule=rule, channel=channel, receiver=receiver)
