"""Executive report outputs: CSV and PDF (with charts) of a dashboard summary, and the weekly
e-mail to each team's stakeholders (managers and admins, plus HIVEOPS_EXECUTIVE_REPORT_EMAILS)."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from datetime import timedelta as td
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from bi import kpis, selectors
from bi.models import ExecutiveReport
from core.csvexport import csv_text
from core.teams.models import Membership, Team

logger = logging.getLogger(__name__)

STAKEHOLDER_ROLES = (Membership.Role.MANAGER, Membership.Role.ADMIN)


def formula() -> dict:
    """The health-score definition, for the page, the e-mail and the PDF."""
    return {
        **{f"w_{k}": w for k, w in kpis.WEIGHTS.items()},
        "incident_points": kpis.INCIDENT_POINTS,
        "degradation": {f"P{p}": w for p, w in kpis.DEGRADATION.items()},
        "mtta_target": kpis.MTTA_TARGET_MIN,
        "mttr_target": kpis.MTTR_TARGET_MIN,
        "revenue_zero_percent": kpis.REVENUE_LOSS_FOR_ZERO * 100,
        "risk_points": kpis.RISK_POINTS,
    }


def score_rows(data: dict) -> list[dict]:
    """The score's components with labels and weights, from the summary's JSON form."""
    now, before = data["health"]["components"], data["previous_health"]["components"]
    return [
        {"key": k, "label": kpis.COMPONENT_LABELS[k], "weight": w, "now": now.get(k), "before": before.get(k)}
        for k, w in kpis.WEIGHTS.items()
    ]


def file_name(s: kpis.Summary) -> str:
    return f"executive-{s.period.name}-{s.period.end:%Y-%m-%d}"


# ------------------------------------------------------------------------------------------------
# CSV: one row per figure, with the previous period and the change.


def _headline(s: kpis.Summary) -> list[tuple[str, float | None, float | None]]:
    c, p = s.current, s.previous
    rows = [
        ("health_score", s.health.score, s.previous_health.score),
        ("incidents", c.incidents, p.incidents),
        *(
            (f"incidents_p{n}", c.incidents_by_priority.get(n, 0), p.incidents_by_priority.get(n, 0))
            for n in range(1, 6)
        ),
        ("mtta_minutes", c.mtta_min, p.mtta_min),
        ("mttr_minutes", c.mttr_min, p.mttr_min),
        ("impact_minutes", c.impact_minutes, p.impact_minutes),
        (f"revenue_impact_{s.currency}", c.revenue_impact, p.revenue_impact),
        ("customers_affected", len(c.customers_affected), len(p.customers_affected)),
        ("slo_attainment_percent", c.slo_attainment_percent, p.slo_attainment_percent),
        ("sla_attainment_percent", c.sla_attainment_percent, p.sla_attainment_percent),
    ]
    rows += [(f"health_{k}", v, s.previous_health.components.get(k)) for k, v in s.health.components.items()]
    return rows


def _fmt(x) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.4f}".rstrip("0").rstrip(".")
    return str(x)


def summary_csv(s: kpis.Summary) -> str:
    rows: list[list] = [["section", "name", "current", "previous", "change"]]
    for name, cur, prev in _headline(s):
        rows.append(["kpi", name, _fmt(cur), _fmt(prev), _fmt(kpis.change(cur, prev))])
    for r in s.slos:
        rows.append(["slo_attainment_percent", r.name, _fmt(r.attainment), _fmt(r.previous_attainment), ""])
    for r in s.slas:
        rows.append(["sla_attainment_percent", f"{r.customer} / {r.name}", _fmt(r.attainment), "", ""])
    for c in s.current.customers_affected:
        rows.append(["customer_affected", c, "", "", ""])
    for r in s.risks:
        eta = r.eta.astimezone(UTC).isoformat() if r.eta else ""
        rows.append(["risk", f"{r.kind}: {r.title}", _fmt(r.probability), eta, ""])
    for t in s.trend:
        label = t.start.date().isoformat()
        rows.append(["trend_incidents", label, t.incidents, "", ""])
        rows.append(["trend_mtta_minutes", label, _fmt(t.mtta_min), "", ""])
        rows.append(["trend_mttr_minutes", label, _fmt(t.mttr_min), "", ""])
    return csv_text(rows)


# ------------------------------------------------------------------------------------------------
# PDF (reportlab, as the SLA report).


def _money(x: float, currency: str) -> str:
    return f"{x:,.2f} {currency}"


def _num(x: float | None, digits: int = 1, suffix: str = "") -> str:
    return "–" if x is None else f"{x:,.{digits}f}{suffix}"


def summary_pdf(s: kpis.Summary) -> bytes:
    """A4: headline table (with the previous period), the score's components, a bar chart of
    incidents by priority, MTTA/MTTR trend lines, SLOs, SLAs and top risks."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    title = f"Executive report — {s.period.label} to {s.period.end:%Y-%m-%d %H:%M} UTC"
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=title, author="HiveOps")
    style = TableStyle(
        [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#263241")),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
        ]
    )
    c, p = s.current, s.previous
    story = [Paragraph(escape(title), styles["Title"])]  # Paragraph text is markup: escape it
    story.append(
        Paragraph(
            f"Business health score: <b>{_num(s.health.score, 0)}</b> / 100"
            f" (previous period: {_num(s.previous_health.score, 0)})",
            styles["Heading2"],
        )
    )
    head = [
        ["Figure", "This period", "Previous period"],
        ["Incidents", str(c.incidents), str(p.incidents)],
        ["MTTA (min)", _num(c.mtta_min), _num(p.mtta_min)],
        ["MTTR (min)", _num(c.mttr_min), _num(p.mttr_min)],
        ["Revenue impact", _money(c.revenue_impact, s.currency), _money(p.revenue_impact, s.currency)],
        ["Customers affected", str(len(c.customers_affected)), str(len(p.customers_affected))],
        ["SLOs met", f"{c.slo_met} / {c.slo_total}", f"{p.slo_met} / {p.slo_total}"],
        ["SLAs met", f"{c.sla_met} / {c.sla_total}", f"{p.sla_met} / {p.sla_total}"],
    ]
    head += [
        [
            f"Score: {kpis.COMPONENT_LABELS[k]} (weight {kpis.WEIGHTS[k]})",
            _num(v),
            _num(s.previous_health.components.get(k)),
        ]
        for k, v in s.health.components.items()
    ]
    t = Table(head, repeatRows=1)
    t.setStyle(style)
    story += [t, Spacer(1, 10)]

    chart = Drawing(480, 170)
    bars = VerticalBarChart()
    bars.x, bars.y, bars.width, bars.height = 40, 25, 420, 120
    bars.data = [
        [c.incidents_by_priority.get(n, 0) for n in range(1, 6)],
        [p.incidents_by_priority.get(n, 0) for n in range(1, 6)],
    ]
    bars.categoryAxis.categoryNames = [f"P{n}" for n in range(1, 6)]
    bars.valueAxis.valueMin = 0
    bars.bars[0].fillColor = colors.HexColor("#f5a623")
    bars.bars[1].fillColor = colors.HexColor("#8a99a8")
    chart.add(bars)
    chart.add(String(40, 155, "Incidents by priority: this period (orange), previous (grey)", fontSize=9))
    story += [chart, Spacer(1, 6)]

    lines = [
        [(i, t.mtta_min) for i, t in enumerate(s.trend) if t.mtta_min is not None],
        [(i, t.mttr_min) for i, t in enumerate(s.trend) if t.mttr_min is not None],
    ]
    if any(len(line) >= 1 for line in lines):
        drawing = Drawing(480, 170)
        plot = LinePlot()
        plot.x, plot.y, plot.width, plot.height = 40, 25, 420, 120
        plot.data = [line or [(0, 0)] for line in lines]
        plot.lines[0].strokeColor = colors.HexColor("#f5a623")
        plot.lines[1].strokeColor = colors.HexColor("#3e63dd")
        plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, max(1, len(s.trend) - 1)
        plot.yValueAxis.valueMin = 0
        drawing.add(plot)
        drawing.add(String(40, 155, f"MTTA (orange) and MTTR (blue), minutes, per {s.period.bucket}", fontSize=9))
        story += [drawing, Spacer(1, 6)]

    if s.slos:
        rows = [["SLO", "Service", "Objective", "Attainment", "Previous", "Budget left"]]
        rows += [
            [
                r.name[:40],
                r.service[:20],
                f"{r.objective:g}%",
                _num(r.attainment, 3, "%"),
                _num(r.previous_attainment, 3, "%"),
                _num(None if r.budget_left is None else r.budget_left * 100, 1, "%"),
            ]
            for r in s.slos
        ]
        t = Table(rows, repeatRows=1)
        t.setStyle(style)
        story += [Paragraph("SLOs", styles["Heading3"]), t]
    if s.slas:
        rows = [["Customer", "SLA", "Target", "Attainment", "Met"]]
        rows += [
            [
                r.customer[:30],
                r.name[:30],
                f"{r.target:g}%",
                _num(r.attainment, 3, "%"),
                {True: "yes", False: "no", None: "–"}[r.met],
            ]
            for r in s.slas
        ]
        t = Table(rows, repeatRows=1)
        t.setStyle(style)
        story += [Paragraph("SLAs", styles["Heading3"]), t]
    story.append(Paragraph("Top risks", styles["Heading3"]))
    if s.risks:
        rows = [["Kind", "Risk", "Probability", "When (UTC)"]]
        rows += [
            [r.kind, r.title[:70], _num(r.probability, 2), f"{r.eta:%Y-%m-%d %H:%M}" if r.eta else "–"] for r in s.risks
        ]
        t = Table(rows, repeatRows=1)
        t.setStyle(style)
        story.append(t)
    else:
        story.append(Paragraph("No open risks.", styles["Normal"]))
    for note in s.notes:
        story.append(Paragraph(escape(note), styles["Italic"]))
    doc.build(story)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------
# Weekly e-mail.


def last_week(now: datetime) -> tuple[datetime, datetime]:
    """The last whole ISO week (Monday 00:00 UTC to the next Monday) before `now`."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = today - td(days=today.weekday())
    return end - td(days=7), end


def stakeholders(team: Team) -> list[str]:
    managers = Membership.objects.filter(team=team, role__in=STAKEHOLDER_ROLES).exclude(user__email="")
    emails = list(managers.values_list("user__email", flat=True))
    return sorted({*emails, *settings.HIVEOPS_EXECUTIVE_REPORT_EMAILS})


def chart_rows(s: kpis.Summary) -> list[dict]:
    """Bars for the e-mail's chart (HTML tables render in every mail client; images and SVG don't)."""
    top = max([t.incidents for t in s.trend] + [1])
    return [
        {"label": f"{t.start:%a %d %b}", "n": t.incidents, "width": round(100 * t.incidents / top)} for t in s.trend
    ]


def executive_email(*, team: Team, week_end: datetime, to: list[str]) -> None:
    """The 7 days before `week_end` for one team: HTML and text body with a chart, CSV and PDF."""
    s = selectors.summary(team_ids=[team.id], period="7d", now=week_end)
    data = kpis.summary_dict(s)
    context = {"s": s, "team": team, "chart": chart_rows(s), "data": data, "score_rows": score_rows(data), **formula()}
    label = f"{s.period.start:%Y-%m-%d} – {(week_end - td(days=1)):%Y-%m-%d}"
    mail = EmailMultiAlternatives(
        subject=f"Weekly executive report {label}: {team.name} (health {_num(s.health.score, 0)})",
        body=render_to_string("emails/executive.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    mail.attach_alternative(render_to_string("emails/executive.html", context), "text/html")
    mail.attach(f"{file_name(s)}.csv", summary_csv(s), "text/csv")
    mail.attach(f"{file_name(s)}.pdf", summary_pdf(s), "application/pdf")
    mail.send()


def executive_reports_send(*, now: datetime | None = None) -> int:
    """Send last week's report of every team with stakeholders, once per team and week: the
    (team, week) row is claimed first (unique), and removed again when sending fails so the next
    run retries."""
    now = now or timezone.now()
    start, end = last_week(now)
    sent = 0
    for team in Team.objects.order_by("id"):
        to = stakeholders(team)
        if not to or ExecutiveReport.objects.filter(team=team, week=start.date()).exists():
            continue
        try:
            with transaction.atomic():
                claim = ExecutiveReport.objects.create(team=team, week=start.date(), recipients=len(to))
        except IntegrityError:
            continue  # another worker has it
        try:
            executive_email(team=team, week_end=end, to=to)
        except Exception:
            logger.exception("executive report for %s (week of %s) not sent; retrying next run", team, start.date())
            claim.delete()
            continue
        sent += 1
    return sent
