"""Monthly SLA compliance reports: figures per SLA and customer, CSV, PDF (with charts) and the
monthly e-mail to stakeholders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import timedelta as td
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.utils import timezone

from core.csvexport import csv_text
from core.pdf import ReportPDF, Series
from core.reports import UpdateClaim, report_email, report_send
from slo import calculations as calc
from slo import recording
from slo.models import SLA, SLOHour
from slo.selectors import settled_end, slo_minutes
from slo.windows import month_bounds, month_of, previous_month


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

    @property
    def window(self) -> str:
        """The window the figures cover, in words (see window_label)."""
        return window_label(self)


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


def _window_text(at: datetime, zone: str) -> str:
    local = at.astimezone(ZoneInfo(zone))
    return f"{local.day} {local:%b %Y %H:%M}"


def window_label(row: SLARow) -> str:
    """The window a row's figures cover, in the SLA's time zone: the calendar month, or the part
    of it that has settled (a month in progress)."""
    if row.minutes == 0:
        return "no settled data yet"
    return f"{_window_text(row.start, row.sla.timezone)} – {_window_text(row.end, row.sla.timezone)} {row.sla.timezone}"


def month_title(year: int, month: int) -> str:
    return f"{date(year, month, 1):%B %Y}"


def _daily_series(row: SLARow) -> Series:
    zone = ZoneInfo(row.sla.timezone)
    points = [
        (datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=zone), None if v is None else v * 100)
        for day, v in zip(row.days, row.daily, strict=True)
    ]
    return Series("Daily attainment", points)


def report_pdf(rows: list[SLARow], year: int, month: int) -> bytes:
    """A4 report: a summary table (with each SLA's window), a bar chart of achieved vs target per
    SLA, and each SLA's daily attainment over the month's dates."""
    pdf = ReportPDF(
        title="SLA compliance report",
        period=month_title(year, month),
        tz_label="calendar month in each SLA's time zone",
    )
    table = []
    for r in rows:
        f = r.figures
        table.append(
            [
                r.sla.customer,
                r.sla.name,
                window_label(r),
                f"{r.sla.target:g} %",
                "no data" if f.achieved is None else f"{f.achieved * 100:.3f} %",
                "no" if f.breached else "yes",
                f"{f.breaches}",
                minutes_text(f.downtime_minutes),
                f"{f.credit:,.2f} {r.sla.currency}",
            ]
        )
    header = ["Customer", "SLA", "Window", "Target", "Achieved", "Met", "Breaches", "Downtime", "Credit"]
    pdf.table(header, table, widths=[1.2, 1.2, 2.0, 0.75, 1.0, 0.5, 1.1, 1.05, 1.2])
    if not rows:
        pdf.text("No SLAs.")
    if rows:
        achieved = [r.achieved_percent or 0.0 for r in rows]
        low = max(0.0, float(np.floor(min([*achieved, *(r.sla.target for r in rows)]))) - 1)
        pdf.bar_chart(
            "Achieved (orange) and target (blue), %",
            [r.sla.customer for r in rows],
            [achieved, [r.sla.target for r in rows]],
            low=low,
            high=100,
        )
    for r in rows:
        if r.minutes == 0:
            continue
        zone = ZoneInfo(r.sla.timezone)
        values = [v * 100 for v in r.daily if v is not None]
        low = max(0.0, float(np.floor(min([*values, r.sla.target]))) - 0.5) if values else 0.0
        pdf.heading(f"{r.sla.customer} — {r.sla.name}: daily attainment (%)", level=3)
        pdf.time_chart(
            f"Daily attainment, {r.sla.timezone}",
            [_daily_series(r)],
            start=r.start.astimezone(zone),
            end=r.end.astimezone(zone),
            reference=(f"target {r.sla.target:g} %", r.sla.target),
            empty="no data in this month",
            y_low=low,
            y_high=100,
        )
    pdf.text(
        "Downtime: bad minutes (time-based SLIs) or minutes whose own SLI fell below the target (event SLIs); gap "
        'minutes count only under the "bad" gap policy. A breach is one continuous period of downtime.',
        note=True,
    )
    return pdf.build()


def minutes_text(minutes: float) -> str:
    """ "1 h 23 min", "12.5 min"."""
    if minutes < 60:
        return f"{minutes:.1f} min".replace(".0 min", " min")
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def sla_report_message(*, sla: SLA, year: int, month: int, now: datetime | None = None) -> EmailMultiAlternatives:
    """One SLA's monthly report to its stakeholders: HTML and text body, CSV and PDF."""
    rows = sla_report(slas=[sla], year=year, month=month, now=now)
    label = f"{year:04d}-{month:02d}"
    return report_email(
        subject=f"SLA report {label}: {sla.customer} — {sla.name}",
        template="slo/email_report",
        context={"rows": rows, "month": label},
        to=sla.stakeholder_list(),
        attachments=[
            (f"sla-report-{label}.csv", report_csv(rows, year, month), "text/csv"),
            (f"sla-report-{label}.pdf", report_pdf(rows, year, month), "application/pdf"),
        ],
    )


def sla_report_email(*, sla: SLA, year: int, month: int, now: datetime | None = None) -> None:
    """Send one SLA's monthly report now (no claim: the scheduled path is sla_reports_send)."""
    sla_report_message(sla=sla, year=year, month=month, now=now).send()


def sla_report_send(*, sla: SLA, now: datetime | None = None) -> bool:
    """Last month's report of one SLA, once its local month has ended, through the report
    pipeline: the conditional update of `last_report_month` is the claim; a failed send puts the
    previous month back so the next run retries."""
    now = now or timezone.now()
    year, month = previous_month(*month_of(now, sla.timezone))
    first = date(year, month, 1)
    if sla.last_report_month is not None and sla.last_report_month >= first:
        return False
    claim = UpdateClaim(
        queryset=SLA.objects.filter(pk=sla.pk).filter(Q(last_report_month__lt=first) | Q(last_report_month=None)),
        claimed={"last_report_month": first},
        released={"last_report_month": sla.last_report_month},
    )
    return report_send(
        claim=claim,
        render=lambda: sla_report_message(sla=sla, year=year, month=month, now=now),
        what=f"SLA report for {sla} ({first})",
    )


def sla_reports_send(*, now: datetime | None = None) -> int:
    """Send last month's report of every SLA with stakeholders once its local month has ended."""
    now = now or timezone.now()
    slas = SLA.objects.exclude(stakeholders="").select_related("slo", "slo__service")
    return sum(sla_report_send(sla=sla, now=now) for sla in slas)
