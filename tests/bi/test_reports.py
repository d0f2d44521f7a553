"""The weekly executive e-mail: to the team's managers and admins plus the configured list,
once per team and week, with the figures, a chart, the CSV and the PDF; retried after a failure."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import time_machine

from bi import reports
from bi.models import ExecutiveReport
from core.teams.models import Membership
from core.teams.services import membership_ensure

MONDAY = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # reports the week 03-23 .. 03-29


def stakeholders(team, alice, django_user_model):
    alice.email = "alice@ops.example"
    alice.save()
    Membership.objects.filter(user=alice, team=team).update(role=Membership.Role.MANAGER)
    viewer = django_user_model.objects.create_user("vic", email="vic@ops.example", password="pw-vic-12345")
    membership_ensure(team=team, user=viewer, role=Membership.Role.RESPONDER)  # gets no report


def test_the_weekly_report_goes_to_stakeholders_once(team, alice, world, smtp_peer, settings, django_user_model):
    stakeholders(team, alice, django_user_model)
    settings.HIVEOPS_EXECUTIVE_REPORT_EMAILS = ["board@example.com"]
    with time_machine.travel(MONDAY, tick=False):
        assert reports.executive_reports_send() == 2  # the list gets every team's report
        assert reports.executive_reports_send() == 0
    sent = sorted(tuple(sorted(e.rcpt_tos)) for e in smtp_peer.messages)
    assert sent == [("alice@ops.example", "board@example.com"), ("board@example.com",)]
    ops = next(e for e in smtp_peer.messages if "alice@ops.example" in e.rcpt_tos)
    message = email.message_from_bytes(ops.content, policy=email.policy.default)
    assert message["Subject"].strip().startswith("Weekly executive report 2026-03-23 – 2026-03-29: Ops (health ")
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert 'id="chart"' in html  # the bar chart of incidents per day
    assert "Business health score" in html
    assert "Customers affected: 1 (ACME)" in text
    assert "Revenue impact: 6300.00 EUR" in text  # B 300 + C 120 min × 100 × 0.5 (A is on 03-30)
    parts = {p.get_filename(): p for p in message.walk() if p.get_filename()}
    assert set(parts) == {"executive-7d-2026-03-30.csv", "executive-7d-2026-03-30.pdf"}
    assert parts["executive-7d-2026-03-30.pdf"].get_payload(decode=True).startswith(b"%PDF")
    assert b"kpi,incidents,2," in parts["executive-7d-2026-03-30.csv"].get_payload(decode=True)
    assert ExecutiveReport.objects.filter(team=team, week="2026-03-23").exists()


def test_nobody_to_tell_means_no_mail(team, alice, smtp_peer):
    with time_machine.travel(MONDAY, tick=False):
        assert reports.executive_reports_send() == 0  # alice (admin) has no address, no list configured
    assert smtp_peer.messages == []


def test_a_failed_send_is_retried(team, alice, settings, django_user_model):
    stakeholders(team, alice, django_user_model)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1  # nobody listens
    with time_machine.travel(MONDAY, tick=False):
        assert reports.executive_reports_send() == 0
    assert not ExecutiveReport.objects.exists()
