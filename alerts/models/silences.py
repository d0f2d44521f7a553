from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from core.teams.models import Team
from metrics import matchers as label_matchers


class Silence(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="silences")
    matchers = models.JSONField(help_text='[{"name": "service", "op": "=", "value": "checkout"}]')
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    comment = models.TextField()
    expire_on_resolve = models.BooleanField(default=False, help_text="end when the alert it was made for resolves")
    for_alert = models.ForeignKey("alerts.Alert", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    expired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"silence {label_matchers.render(self.matchers)}"

    def clean(self) -> None:
        try:
            label_matchers.validate(self.matchers)
        except label_matchers.MatcherError as exc:
            raise ValidationError({"matchers": str(exc)}) from None
        if not self.matchers:
            raise ValidationError({"matchers": "a silence needs at least one matcher"})
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "must be after starts_at"})

    def is_active(self, now: datetime) -> bool:
        return self.expired_at is None and self.starts_at <= now < self.ends_at


class MaintenanceWindow(models.Model):
    """Alerts of the service are muted during the window: one-off, or daily/weekly in a time zone."""

    class Recurrence(models.TextChoices):
        NONE = "none", "one-off"
        DAILY = "daily"
        WEEKLY = "weekly"

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="maintenance_windows")
    name = models.CharField(max_length=200)
    starts_at = models.DateTimeField(help_text="first start (for recurring windows: the local time of day used)")
    duration = models.DurationField(default=td(hours=1))
    recurrence = models.CharField(max_length=8, choices=Recurrence.choices, default=Recurrence.NONE)
    weekdays = models.JSONField(default=list, blank=True, help_text="weekly: 0=Monday … 6=Sunday")
    timezone = models.CharField(max_length=64, default="UTC")
    until = models.DateTimeField(null=True, blank=True, help_text="recurring windows stop after this")

    class Meta:
        ordering = ["service", "starts_at"]

    def __str__(self) -> str:
        return f"{self.service}: {self.name}"

    def clean(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"timezone": f"unknown time zone {self.timezone!r}"}) from None
        if self.recurrence == self.Recurrence.WEEKLY and not self.weekdays:
            raise ValidationError({"weekdays": "weekly windows need at least one weekday"})

    def is_active(self, now: datetime) -> bool:
        if now < self.starts_at or (self.until and now >= self.until):
            return False
        if self.recurrence == self.Recurrence.NONE:
            return now < self.starts_at + self.duration
        zone = ZoneInfo(self.timezone)
        first_local = self.starts_at.astimezone(zone)
        local_now = now.astimezone(zone)
        # The window that could cover now started today or (if it crosses midnight) earlier.
        for days_back in range(self.duration.days + 2):
            day = local_now.date() - td(days=days_back)
            start = datetime.combine(day, first_local.timetz().replace(tzinfo=None), tzinfo=zone)
            if self.recurrence == self.Recurrence.WEEKLY and start.weekday() not in self.weekdays:
                continue
            if start <= local_now < start + self.duration:
                return True
        return False


class InhibitionRule(models.Model):
    """Alertmanager's inhibition: while a source alert fires, matching targets with equal labels are muted."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="inhibition_rules")
    name = models.CharField(max_length=200)
    source_matchers = models.JSONField()
    target_matchers = models.JSONField()
    equal = models.JSONField(default=list, blank=True, help_text="label names that must be equal on both")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["team", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        for field in ("source_matchers", "target_matchers"):
            try:
                label_matchers.validate(getattr(self, field))
            except label_matchers.MatcherError as exc:
                raise ValidationError({field: str(exc)}) from None
