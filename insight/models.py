"""Change events: deploys, config changes, feature flags … sent through the PagerDuty Change
Events endpoint or the generic API, listed next to incidents as "recent changes"."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from core.teams.models import Team


class ChangeEvent(models.Model):
    class Via(models.TextChoices):
        PAGERDUTY = "pagerduty", "PagerDuty Change Events"
        API = "api", "HiveOps API"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="change_events")
    service = models.ForeignKey("catalog.Service", on_delete=models.SET_NULL, null=True, blank=True)
    integration = models.ForeignKey("alerts.Integration", on_delete=models.SET_NULL, null=True, blank=True)
    via = models.CharField(max_length=12, choices=Via.choices)
    summary = models.CharField(max_length=1024)
    source = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(help_text="when the change happened (the event's timestamp)")
    labels = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True, help_text='[{"href": "...", "text": "..."}]')
    details = models.JSONField(default=dict, blank=True, help_text="PagerDuty custom_details")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # insight.selectors.recent_changes: a team's changes in a window before an incident.
            models.Index(fields=["team", "-at"], name="changeevent_team_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.summary}"
