"""The one report pipeline (core.reports) against the real database and a real SMTP server:
two workers sending the same period at once send one mail; a failure releases the claim so the
next run sends; a claim taken by someone else sends nothing."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bi.models import ExecutiveReport
from capacity.models import DigestRun
from core.reports import RowClaim, UpdateClaim, report_send

WEEK = date(2026, 3, 23)


def _mail(to: str = "lead@ops.example", *, pause: float = 0.0):
    def render() -> EmailMultiAlternatives:
        time.sleep(pause)  # a slow render: the other worker arrives while this one holds the claim
        return EmailMultiAlternatives(subject="report", body="figures", to=[to])

    return render


def _concurrently(send) -> list[bool]:
    """Run `send` in two threads that start together; each thread has its own connection."""
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def worker():
        try:
            barrier.wait()
            results.append(send())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_a_row_claim_send_one_mail(team, smtp_peer):
    def send() -> bool:
        claim = RowClaim(ExecutiveReport, {"team": team, "week": WEEK, "recipients": 1})
        return report_send(claim=claim, render=_mail(pause=0.3), what="weekly report")

    assert sorted(_concurrently(send)) == [False, True]
    assert len(smtp_peer.messages) == 1
    assert ExecutiveReport.objects.filter(team=team, week=WEEK).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_an_update_claim_send_one_mail(team, smtp_peer):
    run = DigestRun.objects.create(team=team, week=WEEK)

    def send() -> bool:
        claim = UpdateClaim(
            queryset=DigestRun.objects.filter(pk=run.pk, sent_at=None),
            claimed={"sent_at": "2026-03-23T09:00Z"},
            released={"sent_at": None},
        )
        return report_send(claim=claim, render=_mail(pause=0.3), what="digest")

    assert sorted(_concurrently(send)) == [False, True]
    assert len(smtp_peer.messages) == 1
    run.refresh_from_db()
    assert run.sent_at is not None


def _smtp_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1  # nobody listens


def test_a_failed_send_releases_a_row_claim_and_the_next_run_sends(team, settings):
    _smtp_down(settings)
    claim = RowClaim(ExecutiveReport, {"team": team, "week": WEEK, "recipients": 1})
    assert report_send(claim=claim, render=_mail(), what="weekly report") is False
    assert not ExecutiveReport.objects.exists()  # released

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    claim = RowClaim(ExecutiveReport, {"team": team, "week": WEEK, "recipients": 1})
    assert report_send(claim=claim, render=_mail(), what="weekly report") is True
    again = RowClaim(ExecutiveReport, {"team": team, "week": WEEK, "recipients": 1})
    assert report_send(claim=again, render=_mail(), what="weekly report") is False  # a retry sends nothing


def test_a_failed_render_releases_an_update_claim_with_the_error(team):
    run = DigestRun.objects.create(team=team, week=WEEK)

    def broken():
        raise RuntimeError("template missing")

    claim = UpdateClaim(
        queryset=DigestRun.objects.filter(pk=run.pk, sent_at=None),
        claimed={"sent_at": "2026-03-23T09:00Z"},
        released={"sent_at": None},
        on_release=lambda exc: {"error": str(exc)},
    )
    assert report_send(claim=claim, render=broken, what="digest") is False
    run.refresh_from_db()
    assert (run.sent_at, run.error) == (None, "template missing")


def test_nobody_to_tell_keeps_the_claim_and_sends_nothing(team, smtp_peer):
    confirmed = []

    class Recorded(RowClaim):
        def confirm(self, message):
            confirmed.append(message)

    claim = Recorded(ExecutiveReport, {"team": team, "week": WEEK, "recipients": 0})
    assert report_send(claim=claim, render=lambda: None, what="weekly report") is False
    assert ExecutiveReport.objects.filter(team=team, week=WEEK).exists()  # the period is done
    assert confirmed == [None]
    assert smtp_peer.messages == []


def _claims(team, kind: str):
    if kind == "row":
        return lambda: RowClaim(ExecutiveReport, {"team": team, "week": WEEK, "recipients": 1})
    run = DigestRun.objects.get_or_create(team=team, week=WEEK)[0]
    return lambda: UpdateClaim(
        queryset=DigestRun.objects.filter(pk=run.pk, sent_at=None),
        claimed={"sent_at": "2026-03-23T09:00Z"},
        released={"sent_at": None},
    )


@pytest.mark.parametrize("kind", ["row", "update"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=st.lists(st.sampled_from(["ok", "render fails", "smtp fails"]), max_size=6))
def test_any_run_of_attempts_sends_at_most_once(team, kind, attempts):
    """The claim as a state machine (free -> taken -> sent, taken -> free on failure): whatever
    order scheduled runs succeed and fail in, the period's mail goes out exactly once if any run
    could send it, and never twice."""
    ExecutiveReport.objects.all().delete()
    DigestRun.objects.all().delete()
    mail.outbox = []
    claim = _claims(team, kind)
    results = []
    for attempt in attempts:

        def render(attempt=attempt):
            if attempt == "render fails":
                raise RuntimeError("template missing")
            message = EmailMultiAlternatives(subject="report", body="figures", to=["lead@ops.example"])
            if attempt == "smtp fails":
                message.connection = _Refusing()
            return message

        results.append(report_send(claim=claim(), render=render, what="report"))
    expected = 1 if "ok" in attempts else 0
    assert sum(results) == expected
    assert len(mail.outbox) == expected
    if expected:
        assert results.index(True) == attempts.index("ok")  # the first run that could send, sent


class _Refusing:
    """A mail connection whose server refuses the message (as a real SMTP failure surfaces)."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")
