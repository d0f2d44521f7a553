"""The local mail sink: the SMTP server keeps what it receives, and the Mail page shows it to the
members of the recipients' teams (superusers see all), with HTML bodies sandboxed."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from aiosmtpd.controller import Controller
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import timezone

from mailsink.models import SentMail
from mailsink.services import mail_prune, mail_store
from mailsink.smtp import SinkHandler
from paging.models import ContactMethod
from tests.peers import free_port


@pytest.fixture
def sink():
    controller = Controller(SinkHandler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


def raw(to: str, subject: str = "P1 checkout down", text: str = "hello", html: str = "") -> bytes:
    message = EmailMultiAlternatives(subject=subject, body=text, from_email="HiveOps <h@localhost>", to=[to])
    if html:
        message.attach_alternative(html, "text/html")
    return message.message().as_bytes()


@pytest.mark.django_db(transaction=True)
def test_the_sink_keeps_a_message_sent_over_smtp(sink):
    connection = get_connection("django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=sink.port)
    message = EmailMultiAlternatives(
        subject="P1 checkout latency",
        body="Acknowledge: http://127.0.0.1:8000/ack/abc",
        from_email="hiveops@localhost",
        to=["Alice@Example.localhost"],
        connection=connection,
    )
    message.attach_alternative("<p><a href='http://127.0.0.1:8000/ack/abc'>Acknowledge</a></p>", "text/html")
    message.send()
    kept = SentMail.objects.get()
    assert kept.subject == "P1 checkout latency"
    assert kept.recipients == ["alice@example.localhost"]
    assert kept.sender == "hiveops@localhost"
    assert kept.text.strip() == "Acknowledge: http://127.0.0.1:8000/ack/abc"
    assert "<a href='http://127.0.0.1:8000/ack/abc'>" in kept.html


def test_it_keeps_only_the_newest_messages(db, settings):
    settings.HIVEOPS_MAILSINK_KEEP = 3
    for n in range(5):
        mail_store(sender="s@x", recipients=["a@x"], content=raw("a@x", subject=f"m{n}"))
    assert list(SentMail.objects.values_list("subject", flat=True)) == ["m4", "m3", "m2"]
    assert mail_prune(keep=1) == 2


@pytest.fixture
def mails(db, alice, bob):
    alice.email = "alice@ops.localhost"
    alice.save()
    ContactMethod.objects.create(user=bob, kind="email", address="Bob.Pager@other.localhost")
    now = timezone.now()
    for n, to in enumerate(["alice@ops.localhost", "bob.pager@other.localhost", "nobody@nowhere.localhost"]):
        stored = mail_store(sender="h@localhost", recipients=[to], content=raw(to, subject=f"to {to}"))
        SentMail.objects.filter(pk=stored.pk).update(received_at=now - td(minutes=n))


def test_the_page_lists_mail_to_members_of_the_users_teams_only(client, settings, mails, alice, bob):
    settings.HIVEOPS_MAILSINK = True
    client.force_login(alice)
    page = client.get("/mail/").content.decode()
    assert "to alice@ops.localhost" in page
    assert "bob.pager" not in page
    assert "nobody@" not in page
    client.force_login(bob)
    page = client.get("/mail/").content.decode()
    assert "to bob.pager@other.localhost" in page  # by his email contact method
    assert "alice@" not in page


def test_a_superuser_sees_all_mail(client, settings, mails, django_user_model):
    settings.HIVEOPS_MAILSINK = True
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root-1234"))
    page = client.get("/mail/").content.decode()
    assert page.count('class="card mail"') == 3


def test_a_user_in_no_team_sees_no_mail(client, settings, mails, charlie):
    settings.HIVEOPS_MAILSINK = True
    client.force_login(charlie)
    page = client.get("/mail/").content.decode()
    assert 'class="card mail"' not in page
    assert "No mail yet" in page


def test_the_page_is_not_found_and_not_linked_when_the_sink_is_off(client, settings, alice):
    client.force_login(alice)
    settings.HIVEOPS_MAILSINK = False
    assert client.get("/mail/").status_code == 404
    assert 'href="/mail/"' not in client.get("/oncall/").content.decode()
    settings.HIVEOPS_MAILSINK = True
    assert client.get("/mail/").status_code == 200
    assert 'href="/mail/"' in client.get("/oncall/").content.decode()


def test_the_page_needs_a_login(client, settings):
    settings.HIVEOPS_MAILSINK = True
    answer = client.get("/mail/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/login/")


def test_bodies_are_shown_escaped_and_html_in_a_sandbox(client, settings, db, alice):
    settings.HIVEOPS_MAILSINK = True
    alice.email = "alice@ops.localhost"
    alice.save()
    html = '<p onclick="steal()">hi</p><script>alert(1)</script><a href="http://127.0.0.1:8000/ack/t">Ack</a>'
    text = "Acknowledge: http://127.0.0.1:8000/ack/t <script>alert(2)</script>"
    to = "alice@ops.localhost"
    mail_store(sender="h@localhost", recipients=[to], content=raw(to, "s", text, html))
    client.force_login(alice)
    page = client.get("/mail/").content.decode()
    assert "<script>alert" not in page
    assert 'onclick="steal()"' not in page  # only inside the escaped srcdoc attribute
    assert '<a href="http://127.0.0.1:8000/ack/t"' in page  # the text body's link is one tap
    iframe = page[page.index("<iframe") : page.index("</iframe>")]
    assert 'sandbox="allow-top-navigation-by-user-activation"' in iframe
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in iframe
