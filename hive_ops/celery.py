from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive_ops.settings")

app = Celery("hive_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import hive_ops.observability.celery_hooks  # noqa: E402, F401  (task metrics, beat heartbeat)


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**kwargs) -> None:
    """Connections are reused between tasks; Django still drops one that broke (database restart)
    or outlived CONN_MAX_AGE. Never inside a transaction (eager tasks in tests run in one)."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
