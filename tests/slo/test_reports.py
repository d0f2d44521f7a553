"""Monthly SLA report: exact figures for a Berlin month with DST, month boundaries and gaps; CSV
and PDF; the monthly e-mail through a real SMTP server, once, after the local month ends."""

from __future__ import annotations

import csv
import email
import email.policy
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pytest
import time_machine

from slo import reports
from slo.models import SLA, SLO
from tests import pdftext
from tests.slo.slo_factories import minutes_between, series, sla, slo, write_minutes

EXACT = {"abs": 1e-9, "rel": 0}
pytestmark = pytest.mark.usefixtures("storage_clean")
AFTER_MARCH = datetime(2026, 4, 2, tzinfo=UTC)
MARCH_MINUTES = 31 * 1440 - 60


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def contract(team):
    """p95 latency per minute from 27 Feb to 1 Apr UTC: bad for the last Berlin hour of February
    and the first Berlin minutes of April (neither is March), 30 bad minutes before the DST jump
    and a 20-minute gap after it."""
    start = utc(2026, 2, 27)
    values = np.full(minutes_between(start, utc(2026, 4, 1)), 100.0)

    def span(a, b):
        return slice(minutes_between(start, a), minutes_between(start, b))

    values[span(utc(2026, 2, 28, 22), utc(2026, 2, 28, 23))] = 300
    values[span(utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1))] = 300
    values[span(utc(2026, 3, 29, 2), utc(2026, 3, 29, 2, 20))] = np.nan
    values[span(utc(2026, 3, 31, 22), utc(2026, 3, 31, 22, 10))] = 300
    write_minutes(series(team, "latency_p95"), start, values)
    objective = slo(
        team,
        sli_kind=SLO.Kind.THRESHOLD,
        metric="latency_p95",
        bound=200,
        total_metric="",
        bad_metric="",
        objective=99.8,
        window=SLO.Window.MONTH,
        timezone="Europe/Berlin",
        gap_policy=SLO.GapPolicy.BAD,
    )
    return sla(team, objective, timezone="Europe/Berlin")


@time_machine.travel(AFTER_MARCH, tick=False)
def test_march_in_berlin(contract):
    [row] = reports.sla_report(slas=[contract], year=2026, month=3)
    assert row.minutes == MARCH_MINUTES
    f = row.figures
    assert f.achieved == pytest.approx((MARCH_MINUTES - 50) / MARCH_MINUTES, **EXACT)
    assert f.downtime_minutes == 50
    assert f.breaches == 2
    assert f.breached
    assert f.credit_percent == 10
    assert f.credit == Decimal("100.00")
    assert len(row.days) == 31
    assert row.daily[28] == pytest.approx(1 - 50 / (23 * 60), **EXACT)  # 29 March: 23 hours long


@time_machine.travel(AFTER_MARCH, tick=False)
def test_csv_and_pdf(contract):
    rows = reports.sla_report(slas=[contract], year=2026, month=3)
    [line] = list(csv.DictReader(io.StringIO(reports.report_csv(rows, 2026, 3))))
    assert line["customer"] == "ACME"
    assert line["month"] == "2026-03"
    assert float(line["achieved_percent"]) == pytest.approx((MARCH_MINUTES - 50) / MARCH_MINUTES * 100, abs=1e-6)
    assert (line["met"], line["breaches"], line["downtime_minutes"], line["credit"]) == ("no", "2", "50.00", "100.00")
    pdf = reports.report_pdf(rows, 2026, 3)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 2000


def test_monthly_email_goes_out_once_after_the_local_month_ends(contract, smtp_peer):
    SLA.objects.filter(pk=contract.pk).update(last_report_month=date(2026, 2, 1))
    with time_machine.travel(utc(2026, 3, 31, 21, 30), tick=False):  # 23:30 in Berlin: still March
        assert reports.sla_reports_send() == 0
    with time_machine.travel(utc(2026, 3, 31, 22, 30), tick=False):  # 00:30 on 1 April in Berlin
        assert reports.sla_reports_send() == 1
        assert reports.sla_reports_send() == 0
    [envelope] = smtp_peer.messages
    assert sorted(envelope.rcpt_tos) == ["cfo@acme.example", "ops@acme.example"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "SLA report 2026-03: ACME — Checkout gold"
    parts = {p.get_filename(): p for p in message.walk() if p.get_filename()}
    assert set(parts) == {"sla-report-2026-03.csv", "sla-report-2026-03.pdf"}
    assert parts["sla-report-2026-03.pdf"].get_payload(decode=True).startswith(b"%PDF")
    assert b"100.00" in parts["sla-report-2026-03.csv"].get_payload(decode=True)
    contract.refresh_from_db()
    assert contract.last_report_month == date(2026, 3, 1)


def test_a_failed_send_is_retried(contract, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1  # nobody listens
    SLA.objects.filter(pk=contract.pk).update(last_report_month=date(2026, 2, 1))
    with time_machine.travel(utc(2026, 4, 1, 6), tick=False):
        assert reports.sla_reports_send() == 0
    contract.refresh_from_db()
    assert contract.last_report_month == date(2026, 2, 1)


# --- names are text, never markup or formulas -----------------------------------------------


@pytest.fixture
def pixel(tmp_path) -> str:
    """A PNG on the server's disk: an unescaped <img src> in Paragraph markup would embed it."""
    from PIL import Image

    path = tmp_path / "pixel.png"
    Image.new("RGB", (4, 4), (255, 0, 0)).save(path)
    return str(path)


def _with_names(contract, customer: str, name: str):
    contract.customer, contract.name = customer, name
    contract.save(update_fields=["customer", "name"])
    return contract


@pytest.mark.parametrize(
    ("customer", "name"),
    [
        ("A<B", "Checkout gold"),
        ("ACME", '<img src="http://127.0.0.1:9/pixel.png"/>'),
        ("ACME", "<img src='{pixel}' width='40' height='40'/>"),
    ],
)
@time_machine.travel(AFTER_MARCH, tick=False)
def test_a_name_written_as_markup_stays_text_in_the_pdf(contract, pixel, monkeypatch, customer, name):
    from reportlab import rl_config

    monkeypatch.setattr(rl_config, "pageCompression", 0)  # readable text in the PDF
    name = name.format(pixel=pixel)
    rows = reports.sla_report(slas=[_with_names(contract, customer, name)], year=2026, month=3)
    pdf = reports.report_pdf(rows, 2026, 3)
    assert pdf.startswith(b"%PDF")
    shown = pdftext.flat(pdftext.text(pdf))
    assert pdftext.flat(customer) in shown  # shown as written
    assert pdftext.flat(name) in shown
    assert b"/Subtype /Image" not in pdf  # no picture fetched or read from disk


def test_the_monthly_mail_goes_out_with_a_name_written_as_markup(contract, smtp_peer):
    _with_names(contract, "A<B & Co", '<img src="http://127.0.0.1:9/x.png"/>')
    SLA.objects.filter(pk=contract.pk).update(last_report_month=date(2026, 2, 1))
    with time_machine.travel(utc(2026, 4, 1, 6), tick=False):
        assert reports.sla_reports_send() == 1
    [envelope] = smtp_peer.messages
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert 'A<B & Co — <img src="http://127.0.0.1:9/x.png"/>' in text  # plain text, not HTML entities
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "A&lt;B &amp; Co" in html
    contract.refresh_from_db()
    assert contract.last_report_month == date(2026, 3, 1)


@time_machine.travel(AFTER_MARCH, tick=False)
def test_the_sla_csv_defuses_formulas(contract):
    _with_names(contract, '=HYPERLINK("http://evil.example","x")', "@SUM(1+1)")
    rows = reports.sla_report(slas=[contract], year=2026, month=3)
    [line] = list(csv.DictReader(io.StringIO(reports.report_csv(rows, 2026, 3))))
    assert line["customer"] == '\'=HYPERLINK("http://evil.example","x")'
    assert line["sla"] == "'@SUM(1+1)"
    assert line["breaches"] == "2"  # numbers untouched
