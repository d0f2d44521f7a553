"""Capacity tasks: the hourly fleet analysis, requested runs and the weekly digest."""

from __future__ import annotations

from celery import shared_task

from capacity.digest import digests_send
from capacity.models import AnalysisRun, Resource
from capacity.services import run_execute


@shared_task(acks_late=True)
def analyse_fleet() -> str:
    """Hourly: analyse every enabled resource of every team."""
    run = AnalysisRun.objects.create(total=Resource.objects.filter(enabled=True).count())
    run = run_execute(run=run)
    return f"{run.done} resource(s) analysed, {run.failed} failed in {run.duration_s or 0:.1f}s"


@shared_task(acks_late=True)
def analyse_run(run_id: int) -> str:
    """A requested run ("Analyse now"); a run already taken or finished is left alone."""
    run = AnalysisRun.objects.filter(pk=run_id).first()
    if run is None:
        return "run gone"
    run = run_execute(run=run)
    return f"run {run.uid}: {run.status} {run.done}/{run.total}"


@shared_task(acks_late=True)
def send_digests() -> str:
    """Hourly: the weekly capacity digest of each team, once its week's send time has come."""
    return f"{digests_send()} capacity digest(s) sent"
