from __future__ import annotations

from datetime import datetime, time
from datetime import timedelta as td
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.timezone import localdate

from core.teams.models import Team


class OnCallRotation(models.Model):
    """Members take turns: each shift lasts `shift_length`, handing off at `handoff_time` local time."""

    class Length(models.TextChoices):
        DAILY = "daily"
        WEEKLY = "weekly"
        CUSTOM = "custom"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(max_length=200)
    length = models.CharField(max_length=8, choices=Length.choices, default=Length.WEEKLY)
    custom_hours = models.PositiveIntegerField(null=True, blank=True, help_text="custom: hours per shift")
    handoff_time = models.TimeField(default=time(9, 0))
    timezone = models.CharField(max_length=64, default="UTC")
    start_date = models.DateField(default=localdate, help_text="the first shift starts this day")
    notify_handoff = models.BooleanField(default=False, help_text="email the incoming person at each handoff")
    handoff_notified_for = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="start of the last shift announced"
    )

    class Meta:
        db_table = "alerts_oncallrotation"  # the table kept its name when the model moved from alerts
        ordering = ["team", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ValueError, KeyError):
            raise ValidationError({"timezone": f"unknown time zone {self.timezone!r}"}) from None
        if self.length == self.Length.CUSTOM and not self.custom_hours:
            raise ValidationError({"custom_hours": "custom rotations need hours per shift"})

    @property
    def shift(self) -> td:
        if self.length == self.Length.DAILY:
            return td(days=1)
        if self.length == self.Length.WEEKLY:
            return td(weeks=1)
        return td(hours=self.custom_hours or 24)

    def first_handoff(self) -> datetime:
        return datetime.combine(self.start_date, self.handoff_time, tzinfo=ZoneInfo(self.timezone))


class RotationMember(models.Model):
    rotation = models.ForeignKey(OnCallRotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "alerts_rotationmember"  # the table kept its name when the model moved from alerts
        ordering = ["rotation", "position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.user}"


class RotationOverride(models.Model):
    """Someone else covers part of the rotation (holiday swap, sick day)."""

    rotation = models.ForeignKey(OnCallRotation, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        db_table = "alerts_rotationoverride"  # the table kept its name when the model moved from alerts
        ordering = ["rotation", "starts_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "must be after starts_at"})
