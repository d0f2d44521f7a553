"""A Redis client for the request path: short timeouts, so a Redis that is down or frozen costs
a request a quarter of a second at most. Callers treat every error as "Redis is away" and carry on.

Every key starts with the installation's prefix (`key()`, settings.HIVEOPS_INSTALLATION), so
installations sharing a Redis server never see each other's data."""

from __future__ import annotations

import redis
from django.conf import settings

_client: redis.Redis | None = None
ERRORS = (redis.RedisError, OSError)


def key(name: str) -> str:
    """`name` in this installation's key space: "<HIVEOPS_INSTALLATION>:<name>"."""
    return f"{settings.HIVEOPS_INSTALLATION}:{name}"


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.25, socket_connect_timeout=0.25)
    return _client
