"""Issue 16, goal 2: the executive dashboard, its API and the SLA report give the same number for
the same window and say which window each figure covers; the executive and SLA PDFs have dated
axes, the product and period on every page, and no text cut off or run over (read back from the
PDFs' text layer)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from rest_framework.test import APIClient

from bi import reports, selectors
from core.fmt import percent
from slo import calculations as calc
from slo import reports as sla_reports
from slo.models import SLOHour
from slo.selectors import slo_minutes
from tests import pdftext
from tests.bi.conftest import NOW, at, record_hours
from tests.slo.slo_factories import sla

DATE_LABEL = re.compile(r"^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)$")
LONG = "Checkout availability for the payment, basket and delivery address steps of the European web shop"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page_data(html: str) -> dict:
    found = re.search(r'<script id="bi-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


@pytest.fixture
def whole_month(world):
    """SLO data for all of March (Berlin's month starts on 28 Feb 23:00 UTC), a little worse than
    the objective in the first half, and a Berlin customer beside the UTC one."""
    objective = world.slos.get()
    record_hours(objective, datetime(2026, 2, 28, 22, tzinfo=UTC), at(17, 12), 9.99)
    sla(objective.team, objective, customer="Globex", name="Berlin silver", target=99.5, timezone="Europe/Berlin")
    return objective


@pytest.mark.parametrize("period", ["7d", "30d"])
def test_the_page_the_api_and_the_sla_report_give_one_number_per_window(alice, whole_month, frozen, period):
    page = login(alice).get(f"/business/?period={period}")
    client = APIClient()
    client.force_authenticate(alice)
    api = client.get(f"/api/v1/bi/summary?period={period}").json()
    shown = _page_data(page.content.decode())
    assert {k: v for k, v in shown.items() if k != "generated_at"} == {
        k: v for k, v in api.items() if k != "generated_at"
    }
    report = {r.sla.customer: r for r in sla_reports.sla_report(slas=whole_month.slas.all(), year=2026, month=3)}
    assert len(api["slas"]) == 2
    for row in api["slas"]:
        month = report[row["customer"]]
        # The contract month so far: the SLA report's window and its number.
        assert (row["month_start"], row["month_end"]) == (
            month.start.isoformat().replace("+00:00", "Z"),
            month.end.isoformat().replace("+00:00", "Z"),
        )
        assert row["month_attainment"] == pytest.approx(month.achieved_percent, abs=1e-4)
        assert row["month_met"] == (not month.figures.breached)
        # Over the period: the SLA report's maths over the same minutes.
        start = datetime.fromisoformat(row["window_start"])
        end = datetime.fromisoformat(row["window_end"])
        good, total = slo_minutes(whole_month, start, end)
        figures = calc.sla_figures(
            good, total, policy=whole_month.gap_policy, time_based=whole_month.time_based, target=0, tiers=[], fee=0
        )
        assert row["attainment"] == pytest.approx(figures.achieved * 100, abs=1e-4)
    html = page.content.decode()
    assert "Contract month so far" in html
    assert "March 2026, Europe/Berlin" in html
    assert f"{api['slas'][0]['month_attainment']:.3f}%" in html
    report_page = login(alice).get("/slos/reports/?month=2026-03").content.decode()
    assert percent(report["ACME"].achieved_percent, 3) in report_page  # the page's one formatter
    assert "1 Mar 2026 00:00 – 31 Mar 2026 11:59 UTC" in report_page  # the window, to the settled minute
    assert "1 Mar 2026 00:00 – 31 Mar 2026 13:59 Europe/Berlin" in report_page


def test_the_previous_health_score_is_a_dash_without_data(alice, world, frozen):
    data = login(alice).get("/business/?period=30d")
    shown = _page_data(data.content.decode())
    assert shown["previous"]["has_data"] is False  # nothing was recorded before 1 March
    assert shown["previous_health"]["score"] is None
    assert '<span data-kpi="previous_health.score">–</span> (no data in that period)' in data.content.decode()


def test_customers_affected_counts_an_sla_customer_in_breach(alice, whole_month, frozen, team):
    s = selectors.summary(team_ids=[team.id], period="30d")
    assert "Globex" not in s.current.customers_in_breach  # 99.5 % target, met
    assert s.current.customers_in_breach == ["ACME"]  # 99.9 % target, missed over the period
    assert "ACME" in s.current.customers_affected


def _check_pdf(pdf: bytes, *, period: str, texts: list[str]) -> list[pdftext.TextLine]:
    lines = pdftext.lines(pdf)
    for page in {line.page for line in lines}:
        on_page = [line.text for line in lines if line.page == page]
        assert "HiveOps" in on_page, f"no product name on page {page}"
        assert any(period in text for text in on_page), f"no period on page {page}"
    assert pdftext.outside_printable_area(pdf) == []
    assert pdftext.overlapping_characters(pdf) == []
    flat = pdftext.flat("\n".join(line.text for line in lines))
    for text in texts:
        assert pdftext.flat(text) in flat, f"{text!r} is not shown in full"
    return lines


def test_the_executive_pdf_reads_like_a_report(alice, whole_month, frozen):
    whole_month.name = LONG
    whole_month.save(update_fields=["name"])
    SLOHour.objects.filter(slo=whole_month, hour__gte=at(30, 12)).update(good=[5.0] * 60, good_sum=300.0)
    response = login(alice).get("/business/export.pdf?period=30d")
    assert response.status_code == 200
    lines = _check_pdf(
        response.content,
        period="1 Mar 2026 12:00 – 31 Mar 2026 12:00 UTC",
        texts=[LONG, f"{LONG}: error budget used up", "1 Mar 2026 00:00 – 31 Mar 2026 13:59 Europe/Berlin"],
    )
    labels = [line.text for line in lines if DATE_LABEL.match(line.text)]
    assert len(labels) >= 4, "the MTTA/MTTR axis is dated"
    assert "1.2" not in {line.text for line in lines}


def test_an_executive_pdf_without_acknowledged_incidents_says_so(charlie):
    s = selectors.summary(team_ids=[], period="7d", now=NOW)
    text = pdftext.text(reports.summary_pdf(s))
    assert "no incidents acknowledged or resolved in this period" in text
    assert "previous period: –" in text


def test_the_sla_pdf_reads_like_a_report(alice, whole_month, frozen):
    whole_month.slas.filter(customer="ACME").update(customer=LONG)
    response = login(alice).get("/slos/reports/?month=2026-03&format=pdf")
    assert response.status_code == 200
    lines = _check_pdf(response.content, period="March 2026", texts=[LONG, "Berlin silver"])
    labels = [line.text for line in lines if DATE_LABEL.match(line.text)]
    assert len(labels) >= 8, "each SLA's daily chart is dated"
    assert not {"1.2", "1.4", "1.6", "1.8"} & {line.text for line in lines}
