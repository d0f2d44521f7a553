"""SLO tasks run by beat: evaluation (record + burn-rate alerts), late-data re-recording and
the monthly SLA report e-mails."""

from __future__ import annotations

from datetime import timedelta as td

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from slo import reports, services
from slo.models import SLOHour


@shared_task(acks_late=True, expires=25)
def evaluate_slos() -> str:
    """Every 30 s: record new minutes of every enabled SLO and act on burn-rate tiers."""
    return str(services.slos_evaluate())


@shared_task(acks_late=True)
def recheck_slos() -> str:
    """Hourly: re-record hours that received late samples; drop hours past rollup retention."""
    changed = services.slos_recheck()
    cutoff = timezone.now() - td(days=settings.HIVEOPS_RETENTION_ROLLUP_DAYS)
    dropped, _ = SLOHour.objects.filter(hour__lt=cutoff).delete()
    return f"{changed} SLO(s) re-recorded, {dropped} old hour(s) dropped"


@shared_task(acks_late=True)
def send_sla_reports() -> str:
    """Hourly: last month's SLA reports, once each SLA's local month has ended."""
    return f"{reports.sla_reports_send()} SLA report(s) sent"
