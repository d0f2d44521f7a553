from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.teams.models import Team


class Severity(models.TextChoices):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @classmethod
    def rank(cls, value: str) -> int:
        """0 for critical … 4 for info."""
        return [c.value for c in cls].index(value)


OPEN_STATUSES = ("pending", "firing", "acknowledged")


class Alert(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        FIRING = "firing"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"

    class Muted(models.TextChoices):
        NO = "", "not muted"
        SILENCED = "silenced"
        SUPPRESSED = "suppressed", "suppressed (inhibited)"
        MAINTENANCE = "maintenance"
        SNOOZED = "snoozed"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alerts")
    service = models.ForeignKey("catalog.Service", on_delete=models.SET_NULL, null=True, blank=True)
    rule = models.ForeignKey("alerts.AlertRule", on_delete=models.SET_NULL, null=True, blank=True)
    integration = models.ForeignKey("alerts.Integration", on_delete=models.SET_NULL, null=True, blank=True)
    series = models.ForeignKey("metrics.Series", on_delete=models.SET_NULL, null=True, blank=True)
    incident = models.ForeignKey(
        "alerts.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    source = models.CharField(max_length=32)
    fingerprint = models.CharField(max_length=64)
    dedup_key = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.FIRING)
    muted = models.CharField(max_length=12, choices=Muted.choices, default=Muted.NO, blank=True)
    silence = models.ForeignKey("alerts.Silence", on_delete=models.SET_NULL, null=True, blank=True)
    flapping = models.BooleanField(default=False)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.CRITICAL)
    summary = models.CharField(max_length=1024)
    description = models.TextField(blank=True)
    runbook_url = models.URLField(max_length=1024, blank=True)
    generator_url = models.URLField(max_length=1024, blank=True)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict, blank=True)
    value = models.FloatField(null=True, blank=True)
    occurrences = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    fired_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_alerts"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True, help_text="quiet (no paging) until then")
    snoozed_until_clear = models.BooleanField(default=False, help_text="quiet until the source clears")

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [
            # Dedup: never two open alerts with one fingerprint (alerts.services.alert_raise retries on it).
            models.UniqueConstraint(
                fields=["team", "fingerprint"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="alert_one_open_per_fingerprint",
            )
        ]
        indexes = [
            # The alert list API: team + status filter, newest first.
            models.Index(fields=["team", "status", "-last_seen", "-id"], name="alert_list"),
            models.Index(fields=["team", "-last_seen", "-id"], name="alert_list_all"),
            # alerts.tasks.auto_resolve_stale / retrigger_unacknowledged scan open alerts by age.
            models.Index(
                fields=["status", "last_seen"], condition=models.Q(status__in=OPEN_STATUSES), name="alert_open_age"
            ),
            models.Index(fields=["team", "dedup_key"], name="alert_dedup_key"),
            # The operator console: open unmuted alerts counted by severity, and the newest open ones.
            models.Index(
                fields=["team", "service", "severity"],
                condition=models.Q(status__in=OPEN_STATUSES, muted=""),
                name="alert_console_counts",
            ),
            models.Index(
                fields=["team", "-last_seen"], condition=models.Q(status__in=OPEN_STATUSES), name="alert_console_open"
            ),
            # The alert list API filtered to open alerts of some severities (`?status=open&severity=`):
            # page and capped count from one small index (docs/architecture.md, "Hot paths").
            models.Index(
                fields=["team", "severity", "-last_seen", "-id"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="alert_list_open_severity",
            ),
            # The list's `q` search also has trigram indexes: migration 0004 (raw SQL).
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def display_status(self) -> str:
        return self.muted if self.muted and self.is_open else self.status


class AlertEvent(models.Model):
    """The alert's timeline: every transition with who or what, when and why."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_name = models.CharField(max_length=120, help_text="user, rule, integration or system")
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["alert", "at"], name="alertevent_alert_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} by {self.actor_name}"
