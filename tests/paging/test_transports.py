"""Each transport against a real local peer (HTTP server, SMTP server)."""

from __future__ import annotations

import pytest

from paging.transports import transport_for
from paging.transports.base import Message, PermanentError, TransientError, signature

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


# --- text from an alert is shown as written, never as markup --------------------------------

HOSTILE = Message(
    **{
        **MESSAGE.__dict__,
        "title": "<!channel> disk & <https://evil.example|your bank>",
        "service": "<@U123>",
        "summary_lines": ['[critical] [click me](https://evil.example) **now** <b>bold</b> & "quoted"'],
    }
)


def test_slack_escapes_mentions_and_links(http_peer):
    transport_for("slack").send("", {"url": http_peer.url}, HOSTILE)
    body = http_peer.received[0].json()
    text = body["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; disk &amp; &lt;https://evil.example|your bank&gt;" in text
    assert "(&lt;@U123&gt;)" in text
    assert '&lt;b&gt;bold&lt;/b&gt; &amp; "quoted"' in text
    assert body["text"] == "[P1] &lt;!channel&gt; disk &amp; &lt;https://evil.example|your bank&gt;"
    assert "<!channel>" not in http_peer.received[0].body.decode()
    assert "<https://evil" not in http_peer.received[0].body.decode()


def test_teams_escapes_markdown_links_and_formatting(http_peer):
    transport_for("teams").send("", {"url": http_peer.url}, HOSTILE)
    card = http_peer.received[0].json()["attachments"][0]["content"]
    texts = [block["text"] for block in card["body"]]
    assert texts[2] == (
        '\\[critical\\] \\[click me\\](https://evil.example) \\*\\*now\\*\\* \\<b\\>bold\\</b\\> & "quoted"'
    )
    assert "[click me](" not in http_peer.received[0].body.decode()


def test_email_text_part_is_plain_text_and_html_part_is_escaped(smtp_peer):
    import email
    import email.policy

    transport_for("email").send("oncall@example.com", {}, HOSTILE)
    (envelope,) = smtp_peer.messages
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert '- [critical] [click me](https://evil.example) **now** <b>bold</b> & "quoted"' in text
    assert "&lt;" not in text
    assert "&amp;" not in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in html
    assert "<b>bold</b>" not in html


def test_email_never_links_to_a_non_http_address(smtp_peer):
    import email
    import email.policy

    bad = Message(**{**MESSAGE.__dict__, "ack_url": "javascript:alert(1)"})
    transport_for("email").send("oncall@example.com", {}, bad)
    (envelope,) = smtp_peer.messages
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "javascript:" not in html
    assert 'href="http://hive/incident"' in html


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("- item\n  # heading\n1. one\n2) two", "\\- item\n  \\# heading\n1\\. one\n2\\) two"),
        (
            "back\\slash <https://x> ~strike~ `code` _it_",
            "back\\\\slash \\<https://x\\> \\~strike\\~ \\`code\\` \\_it\\_",
        ),
        ("cpu 97.5% on web-1 (a+b)", "cpu 97.5% on web-1 (a+b)"),  # nothing to escape mid-line
    ],
)
def test_teams_text_escapes_markdown_marks(text, shown):
    from paging.transports.markup import teams_text

    assert teams_text(text) == shown
