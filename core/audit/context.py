"""Who is acting, from where: set per request by the middleware (and by token authentication,
which runs inside the view), read when an audit row is written. Tasks run with no request: their
rows say "system" unless the change names its actor."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from django.conf import settings


@dataclass
class Context:
    user: object | None = None
    token: object | None = None
    ip: str | None = None
    via: str = "task"


_current: contextvars.ContextVar[Context | None] = contextvars.ContextVar("audit_context", default=None)


def current() -> Context:
    return _current.get() or Context()


def client_ip(meta: dict) -> str | None:
    """The caller's address: REMOTE_ADDR, or the first X-Forwarded-For hop behind a trusted proxy."""
    if settings.HIVEOPS_TRUST_X_FORWARDED_FOR and meta.get("HTTP_X_FORWARDED_FOR"):
        return meta["HTTP_X_FORWARDED_FOR"].split(",")[0].strip() or None
    return meta.get("REMOTE_ADDR") or None


def set_token(token) -> None:
    context = _current.get()
    if context is not None:
        context.token = token


class AuditContextMiddleware:
    """Sync and async capable: records the user, address and channel of each request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _begin(self, request):
        via = "admin" if request.path.startswith("/admin/") else "api" if request.path.startswith("/api/") else "page"
        user = getattr(request, "user", None)
        return _current.set(Context(user=user, ip=client_ip(request.META), via=via))

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        token = self._begin(request)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)

    async def __acall__(self, request):
        token = self._begin(request)
        try:
            return await self.get_response(request)
        finally:
            _current.reset(token)
