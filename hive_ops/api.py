"""Project-wide API glue: the DRF exception handler."""

from __future__ import annotations

from django.db import DatabaseError, InterfaceError, OperationalError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

RETRY_AFTER_SECONDS = 5


def database_unavailable_response() -> Response:
    response = Response({"error": "database unavailable, retry later"}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    ):
        return database_unavailable_response()
    return drf_exception_handler(exc, context)
