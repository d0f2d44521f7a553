"""503 with Retry-After, instead of 500, when the database is away or every pooled connection is
busy (psycopg-pool's PoolTimeout reaches Django as an OperationalError).

The API already answers so through its DRF exception handler (`core.api`); this covers pages,
the login forms, the admin and plain Django views: `DatabaseUnavailableMiddleware` for errors
raised by views, and `server_error` (handler500) for errors raised anywhere else, such as a
middleware that loads the session. Neither touches the database itself.
"""

from __future__ import annotations

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin
from django.views.defaults import server_error as django_server_error

from core.api import RETRY_AFTER_SECONDS

PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>HiveOps is busy</title></head>"
    "<body><h1>Temporarily unavailable</h1><p>The database is busy or unreachable. "
    "This page will work again in a few seconds: please reload it.</p></body></html>"
)


def is_database_unavailable(exc: BaseException | None) -> bool:
    """The database cannot be reached, or no connection could be had in time (pool timeout)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DatabaseError) and "connection" in str(exc).lower()


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"error": "database unavailable, retry later"}, status=503)
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    # Sync only, on purpose. Under ASGI Django runs each middleware in the mode of the one inside
    # it, and this one is innermost: were it async, every MiddlewareMixin above it (sessions,
    # CSRF, auth, messages...) would run async and hop to a thread and back for each of its
    # hooks, about a dozen thread switches per request. Sync here keeps the whole chain sync:
    # three switches (measured: docs/architecture.md, "Hot paths: where the time goes").
    async_capable = False

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return unavailable_response(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django calls it while handling the exception, so sys.exc_info() names it."""
    if is_database_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return django_server_error(request)
