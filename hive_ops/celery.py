from __future__ import annotations

import os

from celery import Celery
from celery.signals import beat_init, task_postrun, task_prerun, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive_ops.settings")

app = Celery("hive_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import core.observability.celery_hooks  # noqa: E402, F401  (task metrics, beat heartbeat)
from core.base_url import connect_celery_signals  # noqa: E402

connect_celery_signals()  # workers and beat warn when HIVEOPS_BASE_URL does not answer


def use_own_connection(databases: dict, *, conn_max_age: int) -> None:
    """Celery processes keep one reused connection each instead of a web-sized pool: a prefork
    worker holds at most `concurrency` connections, beat at most one (docs/deployment.md,
    "Database connections"). Must run before the process opens its first connection."""
    for database in databases.values():
        if (database.get("OPTIONS") or {}).pop("pool", None) is not None:
            database["CONN_MAX_AGE"] = conn_max_age


@worker_init.connect  # in the parent, before prefork children exist
@beat_init.connect
def _no_pool_in_celery(**kwargs) -> None:
    from django.conf import settings
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
    use_own_connection(settings.DATABASES, conn_max_age=settings.CELERY_DB_CONN_MAX_AGE)


def lower_priority(increment: int) -> int:
    """Raise this process's nice value by `increment` (children forked later inherit it); returns
    the new nice value. A process can lower its priority without privileges, never raise it back.

    With Linux's autogroup scheduling (the default on desktop and many server kernels), nice only
    orders processes of one session: a worker started in its own session (honcho, the benches,
    `setsid`) would still get as much CPU as a web process. So when the session holds nothing but
    this process (and the shell that started it), the session's autogroup is lowered by as much."""
    if increment <= 0:
        return os.nice(0)
    value = os.nice(increment)
    if _session_is_ours():
        _lower_autogroup(increment)
    return value


def _stat_fields(pid: int | str) -> list[str]:
    with open(f"/proc/{pid}/stat") as stat:  # after "pid (comm) ": state ppid pgrp session ...
        return stat.read().rsplit(")", 1)[1].split()


def _session_is_ours() -> bool:
    """True when this process or its parent (a `sh -c` wrapper) leads the session and every
    other process of it is one of those two."""
    try:
        session = os.getsid(0)
        ours = {os.getpid(), os.getppid()}
        if session not in ours:
            return False
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in ours:
                try:
                    if int(_stat_fields(entry)[3]) == session:
                        return False
                except (OSError, IndexError, ValueError):
                    continue  # gone meanwhile
        return True
    except OSError:
        return False


def _lower_autogroup(increment: int) -> None:
    try:
        with open("/proc/self/autogroup") as group:  # "/autogroup-85 nice 0"
            current = int(group.read().split()[-1])
        with open("/proc/self/autogroup", "w") as group:
            group.write(str(min(19, current + increment)))
    except (OSError, ValueError, IndexError):
        pass  # no autogroup (kernel without it, or turned off): nice alone is enough


@worker_init.connect  # in the parent, so every prefork child inherits it
def _worker_priority(**kwargs) -> None:
    from django.conf import settings

    lower_priority(settings.CELERY_WORKER_NICE)


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**kwargs) -> None:
    """Connections are reused between tasks; Django still drops one that broke (database restart)
    or outlived CONN_MAX_AGE. Never inside a transaction (eager tasks in tests run in one)."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


GC_THRESHOLDS = (100_000, 50, 100)


def tune_gc() -> None:
    """Workers keep many long-lived objects (thousands of cached detectors): with Python's default
    thresholds the collector rescans them every few hundred allocations. Measured on detection of
    2,000 series: 0.42 s with the defaults, 0.28 s with these."""
    import gc

    gc.set_threshold(*GC_THRESHOLDS)


@worker_init.connect  # the solo pool runs tasks in the main process
@worker_process_init.connect  # prefork children
def _tune_gc_in_worker(**kwargs) -> None:
    tune_gc()
