from __future__ import annotations

import uuid
from datetime import timedelta as td

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from core.teams.models import Team


class EscalationPolicy(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="escalation_policies")
    name = models.CharField(max_length=200)
    repeat = models.PositiveSmallIntegerField(default=0, help_text="repeat the levels 0–9 more times")
    repeat_from_level = models.PositiveSmallIntegerField(default=1, help_text="repeats start at this level (1 = first)")

    class Meta:
        db_table = "alerts_escalationpolicy"  # the table kept its name when the model moved from alerts
        ordering = ["team", "name"]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.repeat > 9:
            raise ValidationError({"repeat": "at most 9 repeats"})


class EscalationLevel(models.Model):
    class Strategy(models.TextChoices):
        ALL = "all", "notify all targets"
        ROUND_ROBIN = "round_robin", "round-robin (one target per escalation)"

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField(default=1)
    wait = models.DurationField(default=td(minutes=5), help_text="before the next level: 1 minute to 24 hours")
    strategy = models.CharField(max_length=12, choices=Strategy.choices, default=Strategy.ALL)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    teams = models.ManyToManyField(Team, blank=True, related_name="+", help_text="every member of these teams")
    rotation = models.ForeignKey("paging.OnCallRotation", on_delete=models.SET_NULL, null=True, blank=True)
    channels = models.ManyToManyField("paging.NotificationChannel", blank=True, related_name="+")
    only_days = models.JSONField(default=list, blank=True, help_text="0=Monday … 6=Sunday; empty = every day")
    only_from = models.TimeField(null=True, blank=True)
    only_until = models.TimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    min_alerts = models.PositiveIntegerField(null=True, blank=True, help_text="only if more than X alerts …")
    min_alerts_window = models.DurationField(null=True, blank=True, help_text="… arrived in this window")

    class Meta:
        db_table = "alerts_escalationlevel"  # the table kept its name when the model moved from alerts
        ordering = ["policy", "position", "id"]

    def __str__(self) -> str:
        return f"{self.policy} level {self.position}"

    def clean(self) -> None:
        if not td(minutes=1) <= self.wait <= td(hours=24):
            raise ValidationError({"wait": "must be between 1 minute and 24 hours"})


class EscalationRoute(models.Model):
    """Brings incidents to a policy; the first matching route (by position) wins."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="escalation_routes")
    position = models.PositiveIntegerField(default=0)
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE)
    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, null=True, blank=True)
    severities = models.JSONField(default=list, blank=True, help_text='e.g. ["critical", "high"]; empty = any')
    matchers = models.JSONField(default=list, blank=True)
    is_default = models.BooleanField(default=False, help_text="used when no other route matches")

    class Meta:
        db_table = "alerts_escalationroute"  # the table kept its name when the model moved from alerts
        ordering = ["team", "is_default", "position", "id"]

    def __str__(self) -> str:
        return f"route {self.position} → {self.policy}"


class Escalation(models.Model):
    """A running escalation: the policy snapshot, where it stands, and its fence."""

    class State(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused", "paused (every firing alert muted)"
        STOPPED = "stopped"
        FINISHED = "finished"
        UNROUTED = "unrouted", "not started (no route matches)"

    incident = models.ForeignKey("alerts.Incident", on_delete=models.CASCADE, related_name="escalations")
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.SET_NULL, null=True)
    snapshot = models.JSONField(default=dict, blank=True, help_text="the policy as routed at the first step")
    fence = models.UUIDField(default=uuid.uuid4, help_text="step tasks carrying another fence exit")
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    next_level = models.PositiveSmallIntegerField(default=0, help_text="index into snapshot levels")
    cycle = models.PositiveSmallIntegerField(default=0)
    next_step_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "alerts_escalation"  # the table kept its name when the model moved from alerts
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"], condition=models.Q(state="active"), name="escalation_one_active_per_incident"
            )
        ]
        indexes = [
            # alerts.tasks.audit_escalations: active escalations whose step is due.
            models.Index(fields=["next_step_at"], condition=models.Q(state="active"), name="escalation_due")
        ]

    def __str__(self) -> str:
        return f"escalation of {self.incident_id} ({self.state})"


class EscalationLog(models.Model):
    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now)
    level = models.PositiveSmallIntegerField(null=True)
    cycle = models.PositiveSmallIntegerField(default=0)
    action = models.CharField(max_length=32)
    detail = models.TextField(blank=True)

    class Meta:
        db_table = "alerts_escalationlog"  # the table kept its name when the model moved from alerts
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.action}"
