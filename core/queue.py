"""Enqueue a Celery task by name, so services never import task modules (tasks import services).

Every app imports its own tasks in `AppConfig.ready()`, so the registry knows them in web and
worker processes alike; eager mode (tests) is honoured because the registered task object is
used when it is known."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import current_app

logger = logging.getLogger(__name__)


def enqueue(name: str, *args, eta: datetime | None = None, expires: float | None = None) -> bool:
    """Queue `name(*args)`; False (logged) when the broker is down: callers rely on a periodic
    sweep (the escalation auditor, the housekeeping run) to catch up."""
    try:
        task = current_app.tasks.get(name)
        if task is not None:
            task.apply_async(args, eta=eta, expires=expires)
        else:
            current_app.send_task(name, args=args, eta=eta, expires=expires)
    except Exception:
        logger.warning("task %s not enqueued; the periodic sweep will catch up", name, exc_info=True)
        return False
    return True
