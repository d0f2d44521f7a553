"""Heartbeats of Celery beat and of the workers, kept in Redis as Unix timestamps.

Beat schedules `core.observability.tasks.heartbeat` every 30 s. When beat publishes it, a
`before_task_publish` handler in the beat process writes the *beat* heartbeat (beat is alive and
can reach the broker); when a worker runs it, the task writes the *worker* heartbeat. A fresh
worker heartbeat therefore proves the whole path beat → broker → worker, and a fresh beat
heartbeat with a stale worker one points at the workers (down, or the queue is backed up).
"""

from __future__ import annotations

import time

import redis
from django.conf import settings

HEARTBEAT_TASK = "core.observability.tasks.heartbeat"
TTL_S = 86_400
TIMEOUT_S = 0.25  # readiness must answer fast even when Redis hangs
_clients: dict[str, redis.Redis] = {}


def keys() -> dict[str, str]:
    """The Redis key of each heartbeat, in this installation's key space (HIVEOPS_INSTALLATION)."""
    return {name: f"{settings.HIVEOPS_INSTALLATION}:heartbeat:{name}" for name in ("beat", "worker")}


def client() -> redis.Redis:
    """A Redis client for settings.REDIS_URL with short timeouts (one per URL, per process)."""
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
    return _clients[url]


def beat(now: float | None = None) -> None:
    client().set(keys()["beat"], repr(now or time.time()), ex=TTL_S)


def worker(now: float | None = None) -> None:
    client().set(keys()["worker"], repr(now or time.time()), ex=TTL_S)


def ages(now: float | None = None) -> dict[str, float | None]:
    """Seconds since each heartbeat (None: never written, or expired). Raises RedisError/OSError."""
    now = now or time.time()
    names = keys()
    values = client().mget(list(names.values()))
    return {name: (None if raw is None else now - float(raw)) for name, raw in zip(names, values, strict=True)}
