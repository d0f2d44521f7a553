"""Monthly SLA compliance reports: figures per SLA and customer, CSV, PDF (with charts) and the
monthly e-mail to stakeholders."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import timedelta as td
from decimal import Decimal
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from alerts.models import SLA, SLOHour
from alerts.slo import calculations as calc
from alerts.slo import recording
from alerts.slo.selectors import settled_end, slo_minutes
from alerts.slo.windows import month_bounds, month_of, previous_month
from core.csvexport import csv_text

logger = logging.getLogger(__name__)


@dataclass
class SLARow:
    sla: SLA
    start: datetime
    end: datetime
    minutes: int
    figures: calc.SLAFigures
    days: list[str] = field(default_factory=list)
    daily: list[float | None] = field(default_factory=list)

    @property
    def achieved_percent(self) -> float | None:
        a = self.figures.achieved
        return None if a is None else a * 100


def _ensure_recorded(sla: SLA, start: datetime, end: datetime) -> None:
    """Months older than the backfill are recorded on demand (rollups are kept for 400 days)."""
    expected = int(np.ceil((end - start).total_seconds() / 3600)) + 1
    have = SLOHour.objects.filter(slo=sla.slo, hour__gt=start - td(hours=1), hour__lt=end).count()
    if have < expected - 1:
        recording.record_range([sla.slo], start, end)


def _daily(sla: SLA, start: datetime, good: np.ndarray, total: np.ndarray) -> tuple[list[str], list]:
    zone = ZoneInfo(sla.timezone)
    local = start.astimezone(zone)
    days, values = [], []
    day = local.date()
    while True:
        a = datetime(day.year, day.month, day.day, tzinfo=zone)
        b = a + td(days=1)
        b = datetime(b.year, b.month, b.day, tzinfo=zone)
        i, j = int((a - start).total_seconds() // 60), int((b - start).total_seconds() // 60)
        if i >= len(total):
            break
        s = calc.sums_of(good[i:j], total[i:j])
        g, t = calc.with_gaps(s, policy=sla.slo.gap_policy, fill=calc.gap_fill(s, time_based=sla.slo.time_based))
        days.append(day.isoformat())
        values.append(g / t if t > 0 else None)
        day += td(days=1)
    return days, values


def sla_row(sla: SLA, year: int, month: int, *, now: datetime | None = None) -> SLARow:
    """The month's figures of one SLA (a month in progress counts up to the settled end)."""
    start, end = month_bounds(year, month, sla.timezone)
    end = min(end, settled_end(now))
    if end <= start:
        empty = calc.sla_figures(np.empty(0), np.empty(0), policy="unknown", time_based=True, target=0, tiers=[], fee=0)
        return SLARow(sla, start, start, 0, empty)
    _ensure_recorded(sla, start, end)
    good, total = slo_minutes(sla.slo, start, end)
    figures = calc.sla_figures(
        good,
        total,
        policy=sla.slo.gap_policy,
        time_based=sla.slo.time_based,
        target=sla.target_ratio,
        tiers=sla.credit_tiers,
        fee=Decimal(sla.monthly_fee),
    )
    days, daily = _daily(sla, start, good, total)
    return SLARow(sla, start, end, len(total), figures, days, daily)


def sla_report(*, slas, year: int, month: int, now: datetime | None = None) -> list[SLARow]:
    return [sla_row(sla, year, month, now=now) for sla in slas]


CSV_HEADER = [
    "customer",
    "sla",
    "slo",
    "service",
    "month",
    "time_zone",
    "target_percent",
    "achieved_percent",
    "met",
    "breaches",
    "downtime_minutes",
    "credit_percent",
    "credit",
    "currency",
]


def report_csv(rows: list[SLARow], year: int, month: int) -> str:
    lines: list[list] = [CSV_HEADER]
    for r in rows:
        f = r.figures
        lines.append(
            [
                r.sla.customer,
                r.sla.name,
                r.sla.slo.name,
                r.sla.slo.service.slug if r.sla.slo.service_id else "",
                f"{year:04d}-{month:02d}",
                r.sla.timezone,
                f"{r.sla.target:g}",
                "" if f.achieved is None else f"{f.achieved * 100:.6f}",
                "no" if f.breached else "yes",
                f.breaches,
                f"{f.downtime_minutes:.2f}",
                f"{f.credit_percent:g}",
                f"{f.credit:.2f}",
                r.sla.currency,
            ]
        )
    return csv_text(lines)


def report_pdf(rows: list[SLARow], year: int, month: int) -> bytes:
    """A4 report: a summary table, a bar chart of achieved vs target per SLA, and each SLA's
    daily attainment as a line chart."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=f"SLA report {year:04d}-{month:02d}", author="HiveOps")
    story = [Paragraph(f"SLA compliance report — {year:04d}-{month:02d}", styles["Title"])]
    table = [["Customer", "SLA", "Target", "Achieved", "Breaches", "Downtime (min)", "Credit"]]
    for r in rows:
        f = r.figures
        achieved = "n/a" if f.achieved is None else f"{f.achieved * 100:.4f}%"
        table.append(
            [
                r.sla.customer,
                r.sla.name,
                f"{r.sla.target:g}%",
                achieved,
                str(f.breaches),
                f"{f.downtime_minutes:.1f}",
                f"{f.credit:.2f} {r.sla.currency}",
            ]
        )
    t = Table(table, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#263241")),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story += [t, Spacer(1, 12)]
    if rows:
        chart = Drawing(480, 200)
        bars = VerticalBarChart()
        bars.x, bars.y, bars.width, bars.height = 40, 30, 420, 150
        achieved = [r.achieved_percent or 0.0 for r in rows]
        bars.data = [achieved, [r.sla.target for r in rows]]
        low = min([*achieved, *(r.sla.target for r in rows)])
        bars.valueAxis.valueMin = max(0.0, np.floor(low) - 1)
        bars.valueAxis.valueMax = 100
        bars.categoryAxis.categoryNames = [r.sla.customer[:14] for r in rows]
        bars.bars[0].fillColor = colors.HexColor("#f5a623")
        bars.bars[1].fillColor = colors.HexColor("#8a99a8")
        chart.add(bars)
        chart.add(String(40, 185, "Achieved (orange) vs target (grey), %", fontSize=9))
        story += [chart, Spacer(1, 12)]
    for r in rows:
        points = [(i + 1, v * 100) for i, v in enumerate(r.daily) if v is not None]
        if not points:
            continue
        # Paragraph text is reportlab markup: names are escaped so that `A<B` or `<img src=...>`
        # stays text (an unescaped <img> would make reportlab fetch the URL).
        heading = f"{escape(r.sla.customer)} — {escape(r.sla.name)}: daily attainment (%)"
        story.append(Paragraph(heading, styles["Heading4"]))
        drawing = Drawing(480, 150)
        plot = LinePlot()
        plot.x, plot.y, plot.width, plot.height = 40, 20, 420, 110
        plot.data = [points, [(1, r.sla.target), (len(r.daily), r.sla.target)]]
        plot.lines[0].strokeColor = colors.HexColor("#f5a623")
        plot.lines[1].strokeColor = colors.red
        plot.yValueAxis.valueMin = max(0.0, np.floor(min(*(v for _, v in points), r.sla.target)) - 0.5)
        plot.yValueAxis.valueMax = 100
        drawing.add(plot)
        story.append(drawing)
    doc.build(story)
    return buffer.getvalue()


def sla_report_email(*, sla: SLA, year: int, month: int, now: datetime | None = None) -> None:
    """Send one SLA's monthly report to its stakeholders: HTML and text body, CSV and PDF."""
    rows = sla_report(slas=[sla], year=year, month=month, now=now)
    label = f"{year:04d}-{month:02d}"
    context = {"rows": rows, "month": label}
    mail = EmailMultiAlternatives(
        subject=f"SLA report {label}: {sla.customer} — {sla.name}",
        body=render_to_string("slo/email_report.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=sla.stakeholder_list(),
    )
    mail.attach_alternative(render_to_string("slo/email_report.html", context), "text/html")
    mail.attach(f"sla-report-{label}.csv", report_csv(rows, year, month), "text/csv")
    mail.attach(f"sla-report-{label}.pdf", report_pdf(rows, year, month), "application/pdf")
    mail.send()


def sla_reports_send(*, now: datetime | None = None) -> int:
    """Send last month's report of every SLA with stakeholders once its local month has ended.
    Claimed with a conditional update (one sender); a failed send is retried next run."""
    now = now or timezone.now()
    sent = 0
    for sla in SLA.objects.exclude(stakeholders="").select_related("slo", "slo__service"):
        year, month = previous_month(*month_of(now, sla.timezone))
        first = date(year, month, 1)
        if sla.last_report_month is not None and sla.last_report_month >= first:
            continue
        claim = SLA.objects.filter(pk=sla.pk).filter(Q(last_report_month__lt=first) | Q(last_report_month=None))
        if not claim.update(last_report_month=first):
            continue
        try:
            sla_report_email(sla=sla, year=year, month=month, now=now)
        except Exception:
            logger.exception("SLA report for %s (%s) not sent; retrying next run", sla, first)
            SLA.objects.filter(pk=sla.pk).update(last_report_month=sla.last_report_month)
            continue
        sent += 1
    return sent
