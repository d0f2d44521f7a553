"""Pages show times in the reader's time zone: the one in their profile (UTC without one)."""

from __future__ import annotations

import zoneinfo

from django.db import DatabaseError
from django.utils import timezone

from core.teams.models import Profile


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = "UTC"
        user = getattr(request, "user", None)
        try:
            if user is not None and user.is_authenticated:
                name = Profile.objects.filter(user=user).values_list("timezone", flat=True).first() or "UTC"
        except DatabaseError:  # the database is away: the view answers 503 (core/unavailable.py), in UTC
            name = "UTC"
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo("UTC"))
            name = "UTC"
        request.user_timezone = name
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
