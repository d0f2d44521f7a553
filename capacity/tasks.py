"""Capacity tasks: the hourly fleet analysis, requested runs and the weekly digest."""

from __future__ import annotations

from celery import shared_task

from capacity.digest import digests_send
from capacity.models import AnalysisRun
from capacity.services import chunk_analyse, fleet_run_start, run_execute


@shared_task(acks_late=True)
def analyse_fleet() -> str:
    """Hourly: start a run over every enabled resource of every team, split in chunk tasks that
    the worker's processes share (a prefork child may not fork a pool of its own)."""
    run = fleet_run_start()
    if run is None:
        return "a scheduled run started less than 50 minutes ago"
    return f"run {run.uid}: {run.total} resource(s) in {run.chunks.count()} chunk(s)"


@shared_task(acks_late=True)
def analyse_chunk(chunk_id: int) -> str:
    """One chunk of the hourly run; safe to deliver twice (counted once)."""
    return chunk_analyse(chunk_id=chunk_id)


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
