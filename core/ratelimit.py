"""Rate limits, counted in Redis in fixed one-minute windows: the one check (`count`) behind every
limit of the project.

Ingest and the API check two counters (`check`): the caller's (token or user) and its team's.
PagerDuty intake counts events per integration, delivery counts messages per person-facing
channel (storm control). Over the limit the answer is 429 with Retry-After (the seconds left in
the window): Prometheus remote_write and the PagerDuty-style clients back off on it. Limits fail
open: when Redis is down or slow the request goes through (ingest must keep working without
Redis; the verdict then says `counted=False`) and Redis is left alone for a few seconds before
it is tried again."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle

from core import fastredis

logger = logging.getLogger(__name__)
WINDOW_S = 60
BREAK_S = 5.0  # after a Redis error, skip the counters this long
_client: redis.Redis | None = None  # tests point this at a dead port
_broken_until = 0.0


def client() -> redis.Redis:
    return _client or fastredis.client()


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    which: str = ""
    counted: bool = True  # False: Redis was away, nothing was counted (allowed by failing open)


@dataclass(frozen=True)
class Counter:
    which: str  # named in the verdict: caller, team, integration, channel …
    name: str  # the counter's key, without the window
    per_minute: int  # 0 is no limit


def count(counters: list[Counter], *, now: float | None = None) -> Verdict:
    """Count one event on each counter in the current minute's window; refused by the first
    counter over its limit, with the seconds left in the window."""
    global _broken_until
    counters = [c for c in counters if c.per_minute > 0]
    if not counters:
        return Verdict(True)
    if time.monotonic() < _broken_until:
        return Verdict(True, counted=False)
    now = time.time() if now is None else now
    window = int(now // WINDOW_S)
    try:
        pipe = client().pipeline(transaction=False)
        for counter in counters:
            key = fastredis.key(f"rl:{counter.name}:{window}")
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW_S)
        counts = pipe.execute()[::2]
    except (redis.RedisError, OSError):
        _broken_until = time.monotonic() + BREAK_S
        logger.warning("rate limits skipped: Redis unavailable", exc_info=True)
        return Verdict(True, counted=False)
    for counter, seen in zip(counters, counts, strict=True):
        if seen > counter.per_minute:
            return Verdict(False, retry_after=max(1, int(WINDOW_S - now % WINDOW_S + 0.999)), which=counter.which)
    return Verdict(True)


def check(*, kind: str, caller: str, team_id: int | None, now: float | None = None) -> Verdict:
    """Count one request of `kind` (ingest or api) for the caller and its team."""
    limits = settings.HIVEOPS_RATE_LIMITS.get(kind)
    if not limits:
        return Verdict(True)
    counters = [Counter("caller", f"{kind}:c:{caller}", limits["caller"])]
    if team_id is not None:
        counters.append(Counter("team", f"{kind}:t:{team_id}", limits["team"]))
    return count(counters, now=now)


def caller_key(request) -> tuple[str, int | None]:
    """`token:<id>` or `user:<id>`, and the team the limit is charged to (a token's; none for people)."""
    token = getattr(request, "auth", None)
    if token is not None and hasattr(token, "team_id"):
        return f"token:{token.pk}", token.team_id
    user = getattr(request, "user", None)
    return f"user:{getattr(user, 'pk', None) or request.META.get('REMOTE_ADDR', '')}", None


class ApiRateThrottle(BaseThrottle):
    """DRF throttle for every API view: per token or user, and per token's team."""

    def allow_request(self, request, view) -> bool:
        caller, team_id = caller_key(request)
        self.verdict = check(kind="api", caller=caller, team_id=team_id)
        return self.verdict.allowed

    def wait(self) -> float | None:
        return self.verdict.retry_after
