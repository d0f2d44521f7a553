from __future__ import annotations

from celery import shared_task

from core.observability import heartbeats


@shared_task(ignore_result=True)
def heartbeat() -> str:
    """Scheduled by beat every 30 s; running it proves beat → broker → worker."""
    heartbeats.worker()
    return "ok"
