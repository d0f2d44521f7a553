from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from core.teams.models import Team


class Integration(models.Model):
    """An alert source. Its key (shown once, stored hashed) authenticates the sender: a Bearer
    token for Alertmanager and webhooks, the `routing_key` for PagerDuty Events v2."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
        PAGERDUTY = "pagerduty", "PagerDuty Events v2"
        WEBHOOK = "webhook", "generic webhook"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="integrations")
    service = models.ForeignKey("catalog.Service", on_delete=models.SET_NULL, null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    key_prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_event_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"
