"""Beat task of the executive dashboard: the weekly report e-mail."""

from __future__ import annotations

from celery import shared_task

from bi import reports


@shared_task(acks_late=True)
def send_executive_reports() -> str:
    """Hourly: last week's executive report to each team's stakeholders, once per team and week."""
    return f"{reports.executive_reports_send()} executive report(s) sent"
