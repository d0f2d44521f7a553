"""Executive report outputs: CSV and PDF (with charts) of a dashboard summary, and the weekly
e-mail to each team's stakeholders (managers and admins, plus HIVEOPS_EXECUTIVE_REPORT_EMAILS)."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from bi import kpis, selectors
from bi.models import ExecutiveReport
from core.csvexport import csv_text
from core.pdf import ReportPDF, Series
from core.reports import RowClaim, report_email, report_send
from core.teams.models import Membership, Team

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
        if r.month_start is not None:
            month = f"{r.customer} / {r.name} / {r.month_label} {r.timezone}"
            rows.append(["sla_month_attainment_percent", month, _fmt(r.month_attainment), "", ""])
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
# PDF (core.pdf, as the SLA report).


def _money(x: float, currency: str) -> str:
    return f"{x:,.2f} {currency}"


def _num(x: float | None, digits: int = 1, suffix: str = "") -> str:
    return "–" if x is None else f"{x:,.{digits}f}{suffix}"


def _when(at: datetime | None, zone: str = "UTC") -> str:
    """ "3 Mar 2026 12:00" on the clock of `zone` (the caller names the zone next to it)."""
    if at is None:
        return "–"
    return f"{at.astimezone(ZoneInfo(zone)):%d %b %Y %H:%M}".lstrip("0")


def period_text(s: kpis.Summary) -> str:
    """The window in words: "3 Mar 2026 12:00 – 2 Apr 2026 12:00 UTC (30 days)"."""
    return f"{_when(s.period.start)} – {_when(s.period.end)} UTC ({s.period.label})"


def _pdf_headline(pdf: ReportPDF, s: kpis.Summary) -> None:
    c, p = s.current, s.previous
    pdf.text(
        f"Business health score: <b>{_num(s.health.score, 0)}</b> / 100 (previous period:"
        f" {_num(s.previous_health.score, 0)}). Compared with {_when(s.period.previous_start)} –"
        f" {_when(s.period.previous_end)} UTC.",
        markup=True,  # built from numbers and dates only
    )
    rows = [
        ["Incidents opened", str(c.incidents), str(p.incidents)],
        ["MTTA", _minutes_text(c.mtta_min), _minutes_text(p.mtta_min)],
        ["MTTR", _minutes_text(c.mttr_min), _minutes_text(p.mttr_min)],
        ["Revenue impact", _money(c.revenue_impact, s.currency), _money(p.revenue_impact, s.currency)],
        [
            "Customers affected",
            f"{len(c.customers_affected)}" + (f" ({', '.join(c.customers_affected)})" if c.customers_affected else ""),
            str(len(p.customers_affected)),
        ],
        ["SLOs met", f"{c.slo_met} / {c.slo_total}", f"{p.slo_met} / {p.slo_total}"],
        ["SLAs met (over the period)", f"{c.sla_met} / {c.sla_total}", f"{p.sla_met} / {p.sla_total}"],
    ]
    rows += [
        [
            f"Score: {kpis.COMPONENT_LABELS[k]} (weight {kpis.WEIGHTS[k]})",
            _num(v),
            _num(s.previous_health.components.get(k)),
        ]
        for k, v in s.health.components.items()
    ]
    pdf.table(["Figure", "This period", "Previous period"], rows, widths=[2.2, 1.6, 1.2])


def _minutes_text(minutes: float | None) -> str:
    if minutes is None:
        return "–"
    if minutes < 60:
        return f"{minutes:.1f} min"
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _pdf_charts(pdf: ReportPDF, s: kpis.Summary) -> None:
    c, p = s.current, s.previous
    pdf.bar_chart(
        "Incidents by priority: this period (orange), previous period (blue)",
        [f"P{n}" for n in range(1, 6)],
        [
            [c.incidents_by_priority.get(n, 0) for n in range(1, 6)],
            [p.incidents_by_priority.get(n, 0) for n in range(1, 6)],
        ],
        counts=True,
    )
    pdf.time_chart(
        f"MTTA and MTTR per {s.period.bucket} (minutes, UTC)",
        [
            Series("MTTA", [(t.start, t.mtta_min) for t in s.trend]),
            Series("MTTR", [(t.start, t.mttr_min) for t in s.trend]),
        ],
        start=s.period.start,
        end=s.period.end,
        empty="no incidents acknowledged or resolved in this period",
        y_low=0,
    )


def _pdf_tables(pdf: ReportPDF, s: kpis.Summary) -> None:
    if s.slos:
        pdf.heading("SLOs over the period", level=3)
        rows = [
            [
                r.name,
                r.service,
                f"{r.objective:g} %",
                _num(r.attainment, 3, " %"),
                _num(r.previous_attainment, 3, " %"),
                _num(None if r.budget_left is None else r.budget_left * 100, 1, " %"),
            ]
            for r in s.slos
        ]
        header = ["SLO", "Service", "Objective", "Attainment", "Previous", "Budget left"]
        pdf.table(header, rows, widths=[2.2, 1.4, 0.9, 1, 1, 1])
    if s.slas:
        pdf.heading("SLAs", level=3)
        rows = [
            [
                r.customer,
                r.name,
                f"{r.target:g} %",
                _num(r.attainment, 3, " %"),
                _num(r.month_attainment, 3, " %")
                + ("" if r.month_met is None else " (met)" if r.month_met else " (missed)"),
                f"{_when(r.month_start, r.timezone)} – {_when(r.month_end, r.timezone)} {r.timezone}",
            ]
            for r in s.slas
        ]
        header = ["Customer", "SLA", "Target", "Over the period", "Contract month so far", "Contract month window"]
        pdf.table(header, rows, widths=[1.3, 1.3, 0.8, 1.1, 1.3, 2])
    pdf.heading("Top risks", level=3)
    if s.risks:
        rows = [
            [kpis.RISK_KINDS.get(r.kind, r.kind), r.title, r.service or "–", _num(r.probability, 2), _when(r.eta)]
            for r in s.risks
        ]
        pdf.table(["Kind", "Risk", "Service", "Probability", "When (UTC)"], rows, widths=[1.1, 3, 1.2, 0.9, 1.3])
    else:
        pdf.text("No open risks.")
    for note in s.notes:
        pdf.text(note, note=True)


def summary_pdf(s: kpis.Summary) -> bytes:
    """A4: headline table (with the previous period), the score's components, a bar chart of
    incidents by priority, MTTA/MTTR over dated axes, SLOs, SLAs and top risks."""
    pdf = ReportPDF(title="Executive report", period=period_text(s), generated_at=s.generated_at)
    _pdf_headline(pdf, s)
    _pdf_charts(pdf, s)
    _pdf_tables(pdf, s)
    return pdf.build()


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


def executive_message(*, team: Team, week_end: datetime, to: list[str]) -> EmailMultiAlternatives:
    """The 7 days before `week_end` for one team: HTML and text body with a chart, CSV and PDF."""
    s = selectors.summary(team_ids=[team.id], period="7d", now=week_end)
    data = kpis.summary_dict(s)
    context = {"s": s, "team": team, "chart": chart_rows(s), "data": data, "score_rows": score_rows(data), **formula()}
    label = f"{s.period.start:%Y-%m-%d} – {(week_end - td(days=1)):%Y-%m-%d}"
    return report_email(
        subject=f"Weekly executive report {label}: {team.name} (health {_num(s.health.score, 0)})",
        template="emails/executive",
        context=context,
        to=to,
        attachments=[
            (f"{file_name(s)}.csv", summary_csv(s), "text/csv"),
            (f"{file_name(s)}.pdf", summary_pdf(s), "application/pdf"),
        ],
    )


def executive_email(*, team: Team, week_end: datetime, to: list[str]) -> None:
    """Send one team's report now (no claim: the scheduled path is executive_report_send)."""
    executive_message(team=team, week_end=week_end, to=to).send()


def executive_report_send(*, team: Team, now: datetime | None = None) -> bool:
    """Last week's report of one team, once, through the report pipeline: the (team, week) row is
    the claim (unique), deleted again when sending fails so the next run retries."""
    start, end = last_week(now or timezone.now())
    to = stakeholders(team)
    if not to or ExecutiveReport.objects.filter(team=team, week=start.date()).exists():
        return False
    claim = RowClaim(ExecutiveReport, {"team": team, "week": start.date(), "recipients": len(to)})
    return report_send(
        claim=claim,
        render=lambda: executive_message(team=team, week_end=end, to=to),
        what=f"executive report for {team} (week of {start.date()})",
    )


def executive_reports_send(*, now: datetime | None = None) -> int:
    """Send last week's report of every team with stakeholders, once per team and week."""
    now = now or timezone.now()
    return sum(executive_report_send(team=team, now=now) for team in Team.objects.order_by("id"))
