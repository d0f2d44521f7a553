from __future__ import annotations

from celery import shared_task

from metrics import services


@shared_task(acks_late=True)
def refresh_rollups() -> str:
    """Recompute rollups for hours that received samples. Idempotent; safe to run concurrently."""
    progress = list(services.rollups_refresh(max_batches=200))
    done = progress[-1][0] if progress else 0
    return f"refreshed {done} series-hours"


@shared_task(acks_late=True)
def maintain_storage() -> str:
    return str(services.storage_maintain())
