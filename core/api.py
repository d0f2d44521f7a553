"""Project-wide API glue: the DRF exception handler, and JSON 404s for URLs under /api/."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import JsonResponse
from django.views.defaults import page_not_found
from rest_framework import serializers
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
    if isinstance(exc, DataError):
        # The database refused a value from the request (a NUL character, a number out of range).
        return Response({"error": "a value in the request cannot be stored or compared (NUL character?)"}, status=400)
    return drf_exception_handler(exc, context)


def not_found(request, exception):
    """handler404: an API client gets JSON for an address no route matches, as for a missing object."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


class ModelCleanMixin:
    """Run the model's clean() so API and admin share one set of rules."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance or self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        if "team" in self.context:
            instance.team = self.context["team"]
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs
