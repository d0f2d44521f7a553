"""Celery signal handlers: task durations and failures, and the beat heartbeat.
Imported once by hive_ops/celery.py."""

from __future__ import annotations

import logging

from celery.signals import before_task_publish, task_failure, task_postrun, task_prerun

from core.observability import heartbeats
from core.observability import metrics as m
from core.observability.heartbeats import HEARTBEAT_TASK

logger = logging.getLogger(__name__)


@task_prerun.connect
def _started(task_id=None, **kwargs) -> None:
    m.task_started(task_id)


@task_postrun.connect
def _finished(task_id=None, task=None, **kwargs) -> None:
    m.task_finished(task_id, getattr(task, "name", "unknown"))


@task_failure.connect
def _failed(sender=None, **kwargs) -> None:
    m.task_failed(getattr(sender, "name", "unknown"))


@before_task_publish.connect
def _published(sender=None, **kwargs) -> None:
    """Beat is the only publisher of the heartbeat task: publishing it is beat's heartbeat."""
    if sender != HEARTBEAT_TASK:
        return
    try:
        heartbeats.beat()
    except Exception:  # Redis down: readiness will say so
        logger.warning("beat heartbeat not written", exc_info=True)
