"""Each transport against a real local peer (HTTP server, SMTP server)."""

from __future__ import annotations

import pytest

from alerts.transports.base import Message, PermanentError, TransientError, signature, transport_for

MESSAGE = Message(
    incident_id="inc-1",
    title="Checkout: CPU high",
    priority=1,
    status="triggered",
    service="Checkout",
    summary_lines=["[critical] cpu 97%"],
    incident_url="http://hive/incident",
    ack_url="http://hive/ack/x",
    resolve_url="http://hive/incident",
)


def test_email_sends_text_and_html(smtp_peer):
    transport_for("email").send("oncall@example.com", {}, MESSAGE)
    (envelope,) = smtp_peer.messages
    assert envelope.rcpt_tos == ["oncall@example.com"]
    content = envelope.content.decode()
    assert "Subject: [P1] Checkout: CPU high" in content
    assert "text/html" in content
    assert "http://hive/ack/x" in content


def test_email_to_an_unreachable_server_is_transient(settings):
    from tests.peers import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    with pytest.raises(TransientError):
        transport_for("email").send("x@example.com", {}, MESSAGE)


def test_webhook_is_signed(http_peer):
    transport_for("webhook").send("", {"url": http_peer.url + "/hook", "secret": "s3cret"}, MESSAGE)
    (request,) = http_peer.received
    assert request.path == "/hook"
    assert request.headers["X-HiveOps-Signature"] == signature("s3cret", request.body)
    body = request.json()
    assert body["incident"]["id"] == "inc-1"
    assert body["acknowledge_url"] == "http://hive/ack/x"


@pytest.mark.parametrize(("status", "error"), [(500, TransientError), (429, TransientError), (404, PermanentError)])
def test_http_errors_are_classified(http_peer, status, error):
    http_peer.statuses = [status]
    with pytest.raises(error):
        transport_for("webhook").send("", {"url": http_peer.url}, MESSAGE)


def test_connection_refused_is_transient():
    from tests.peers import free_port

    with pytest.raises(TransientError):
        transport_for("slack").send("", {"url": f"http://127.0.0.1:{free_port()}/"}, MESSAGE)


def test_slack_has_acknowledge_and_resolve_buttons(http_peer):
    transport_for("slack").send("", {"url": http_peer.url}, MESSAGE)
    blocks = http_peer.received[0].json()["blocks"]
    buttons = {e["text"]["text"]: e["url"] for e in blocks[1]["elements"]}
    assert buttons["Acknowledge"] == "http://hive/ack/x"
    assert "Resolve" in buttons


def test_teams_sends_an_adaptive_card(http_peer):
    transport_for("teams").send("", {"url": http_peer.url}, MESSAGE)
    card = http_peer.received[0].json()["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["actions"][0]["url"] == "http://hive/ack/x"


def test_pagerduty_forward_uses_the_incident_as_dedup_key(http_peer):
    transport_for("pagerduty").send("", {"routing_key": "R" * 32, "url": http_peer.url + "/v2/enqueue"}, MESSAGE)
    body = http_peer.received[0].json()
    assert (body["event_action"], body["dedup_key"], body["payload"]["severity"]) == ("trigger", "inc-1", "critical")
    with pytest.raises(PermanentError):
        transport_for("pagerduty").send("", {"url": http_peer.url}, MESSAGE)
