from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def mailsink(request: HttpRequest) -> dict:
    """The top bar links the mail sink's page only when `make run` turned the sink on."""
    return {"mailsink_enabled": settings.HIVEOPS_MAILSINK}
