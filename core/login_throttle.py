"""Login throttling, per account and per client address, for the page login and the admin login.

Failed logins are counted in Redis (`user_login_failed`). Once an account or an address has had
`HIVEOPS_LOGIN_MAX_FAILURES_PER_ACCOUNT` / `..._PER_ADDRESS` failures, further attempts are refused
before the password is hashed (hashing is what makes bad logins expensive), until
`HIVEOPS_LOGIN_LOCK_S` seconds have passed since the latest failure. A refused attempt is not
counted, and a successful login clears its account's counter (not the address's).

The check is the first authentication backend (`ThrottledLogin`): both login forms call
`authenticate()`, which asks it first; when throttled it raises a ValidationError that the form
shows as its error, and `LoginThrottleMiddleware` turns the answer into 429 with Retry-After.
Like the API rate limits, it fails open: with Redis down or slow, logins work unthrottled and
Redis is left alone for a few seconds.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

from core import fastredis
from core.audit.context import client_ip

logger = logging.getLogger(__name__)
BREAK_S = 5.0  # after a Redis error, skip the counters this long
_broken_until = 0.0
_client = None  # tests point this at a dead port


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def _redis():
    return _client or fastredis.client()


def _keys(username: str | None, address: str | None) -> list[tuple[str, int]]:
    """(key, limit) of the account and the address; a limit of 0 turns that counter off."""
    prefix = f"{settings.HIVEOPS_INSTALLATION}:login:fail"
    keys = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        keys.append((f"{prefix}:account:{digest}", settings.HIVEOPS_LOGIN_MAX_FAILURES_PER_ACCOUNT))
    if address:
        keys.append((f"{prefix}:address:{address}", settings.HIVEOPS_LOGIN_MAX_FAILURES_PER_ADDRESS))
    return [(key, limit) for key, limit in keys if limit > 0]


def _broken() -> None:
    global _broken_until
    _broken_until = time.monotonic() + BREAK_S
    logger.warning("login throttling skipped: Redis unavailable", exc_info=True)


def check(username: str | None, address: str | None) -> Verdict:
    """May this account try a password from this address now? One Redis round trip."""
    keys = _keys(username, address)
    if not keys or time.monotonic() < _broken_until:
        return Verdict(True)
    try:
        pipe = _redis().pipeline(transaction=False)
        for key, _ in keys:
            pipe.get(key)
            pipe.ttl(key)
        replies = pipe.execute()
    except fastredis.ERRORS:
        _broken()
        return Verdict(True)
    waits = [
        max(1, int(ttl))
        for (_, limit), count, ttl in zip(keys, replies[::2], replies[1::2], strict=True)
        if count is not None and int(count) >= limit
    ]
    return Verdict(False, retry_after=max(waits)) if waits else Verdict(True)


def record_failure(username: str | None, address: str | None) -> None:
    keys = _keys(username, address)
    if not keys or time.monotonic() < _broken_until:
        return
    try:
        pipe = _redis().pipeline(transaction=False)
        for key, _ in keys:
            pipe.incr(key)
            pipe.expire(key, settings.HIVEOPS_LOGIN_LOCK_S)
        pipe.execute()
    except fastredis.ERRORS:
        _broken()


def clear_account(username: str | None) -> None:
    keys = _keys(username, None)
    if not keys or time.monotonic() < _broken_until:
        return
    try:
        _redis().delete(*(key for key, _ in keys))
    except fastredis.ERRORS:
        _broken()


def _address(request: HttpRequest | None) -> str | None:
    return client_ip(request.META) if request is not None else None


class ThrottledLogin:
    """Authentication backend listed first: refuses throttled attempts, authenticates nobody.
    It has no get_user(), so sessions are never tied to it (force_login picks the next one)."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password=None, **kwargs):
        if username is None or password is None:
            return None
        verdict = check(username, _address(request))
        if verdict.allowed:
            return None  # on to the real backends
        if request is not None:
            request.login_throttled = verdict.retry_after
        minutes = max(1, round(verdict.retry_after / 60))
        raise ValidationError(
            f"Too many failed logins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.", code="throttled"
        )


@receiver(user_login_failed, dispatch_uid="core.login_throttle.failed")
def _failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    if request is not None and getattr(request, "login_throttled", None):
        return
    record_failure(credentials.get("username"), _address(request))


@receiver(user_logged_in, dispatch_uid="core.login_throttle.logged_in")
def _logged_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    clear_account(user.get_username())


class LoginThrottleMiddleware(MiddlewareMixin):
    """A refused login attempt is answered 429 with Retry-After (the form shows the reason)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        retry_after = getattr(request, "login_throttled", None)
        if retry_after and response.status_code == 200:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response
