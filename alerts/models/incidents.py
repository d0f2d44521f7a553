from __future__ import annotations

import uuid
from datetime import timedelta as td

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.teams.models import Team


class GroupingRule(models.Model):
    """Alerts matching `matchers` group into one incident per value of the `group_by` labels."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="grouping_rules")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0, help_text="lower first; the first match wins")
    matchers = models.JSONField(default=list, blank=True)
    group_by = models.JSONField(default=list, help_text='label names, e.g. ["service", "cluster"]')
    group_window = models.DurationField(
        default=td(minutes=30), help_text="an alert within this time after the incident resolved reopens it"
    )
    group_wait = models.DurationField(default=td(seconds=30), help_text="first notification waits this long")

    class Meta:
        ordering = ["team", "position", "id"]

    def __str__(self) -> str:
        return self.name


class Incident(models.Model):
    class Status(models.TextChoices):
        TRIGGERED = "triggered"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="incidents")
    service = models.ForeignKey("catalog.Service", on_delete=models.SET_NULL, null=True, blank=True)
    grouping_rule = models.ForeignKey(GroupingRule, on_delete=models.SET_NULL, null=True, blank=True)
    group_key = models.CharField(max_length=512)
    title = models.CharField(max_length=1024)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TRIGGERED)
    priority = models.PositiveSmallIntegerField(default=3, help_text="1 (highest) … 5, from severity × criticality")
    priority_override = models.PositiveSmallIntegerField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_incidents"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    time_to_acknowledge = models.DurationField(null=True, blank=True)
    time_to_resolve = models.DurationField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    postmortem_summary = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    follow_ups = models.TextField(blank=True, help_text="one per line")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "group_key"],
                condition=~models.Q(status="resolved"),
                name="incident_one_open_per_group_key",
            )
        ]
        indexes = [models.Index(fields=["team", "status", "-opened_at"], name="incident_list")]

    def __str__(self) -> str:
        return f"P{self.effective_priority} {self.title}"

    @property
    def effective_priority(self) -> int:
        return self.priority_override or self.priority


class IncidentEvent(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_name = models.CharField(max_length=120)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"], name="incidentevent_incident_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} by {self.actor_name}"
