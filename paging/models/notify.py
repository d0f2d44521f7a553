from __future__ import annotations

import uuid
from datetime import timedelta as td

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.teams.models import Team


class NotificationChannel(models.Model):
    """A place messages go: one transport per kind (alerts/transports/)."""

    class Kind(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook", "generic webhook"
        SLACK = "slack", "Slack incoming webhook"
        TEAMS = "teams", "Microsoft Teams webhook"
        PAGERDUTY = "pagerduty", "PagerDuty Events v2"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    config = models.JSONField(
        default=dict,
        help_text='email: {"to": ["a@x"]}; webhook: {"url", "secret"}; slack/teams: {"url"}; '
        'pagerduty: {"routing_key", "url" (optional)}',
    )
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        db_table = "alerts_notificationchannel"  # the table kept its name when the model moved from alerts
        ordering = ["team", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class ContactMethod(models.Model):
    """How one person can be reached."""

    class Kind(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook", "webhook (e.g. a phone push gateway)"
        SLACK = "slack", "Slack incoming webhook"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EMAIL)
    address = models.CharField(max_length=500, help_text="email address or URL")

    class Meta:
        db_table = "alerts_contactmethod"  # the table kept its name when the model moved from alerts

    def __str__(self) -> str:
        return f"{self.kind}: {self.address}"


class NotificationRule(models.Model):
    """Personal rules: for each urgency, which contact methods, in order, after which delay."""

    class Urgency(models.TextChoices):
        HIGH = "high", "high (P1–P2)"
        LOW = "low", "low (P3–P5)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules")
    urgency = models.CharField(max_length=4, choices=Urgency.choices)
    position = models.PositiveIntegerField(default=0)
    delay = models.DurationField(default=td(0))
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE)

    class Meta:
        db_table = "alerts_notificationrule"  # the table kept its name when the model moved from alerts
        ordering = ["user", "urgency", "position"]

    def __str__(self) -> str:
        return f"{self.user} {self.urgency}: {self.contact_method} after {self.delay}"


class Notification(models.Model):
    """The delivery log: written before sending, updated after each attempt."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        RETRYING = "retrying"
        FAILED = "failed"
        CANCELLED = "cancelled", "cancelled (acknowledged before sending)"
        DIGEST_QUEUED = "digest_queued", "held back for a digest (storm control)"
        DIGESTED = "digested", "sent in a digest"

    incident = models.ForeignKey("alerts.Incident", on_delete=models.CASCADE, related_name="notifications")
    escalation = models.ForeignKey("paging.Escalation", on_delete=models.SET_NULL, null=True, blank=True)
    channel = models.ForeignKey(NotificationChannel, on_delete=models.SET_NULL, null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    kind = models.CharField(max_length=16)
    target = models.CharField(max_length=500)
    dedup_key = models.CharField(max_length=200, unique=True, help_text="one delivery per escalation step and target")
    level = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    not_before = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "alerts_notification"  # the table kept its name when the model moved from alerts
        ordering = ["-created_at", "-id"]
        indexes = [
            # alerts.tasks.audit_escalations re-enqueues deliveries left behind by a dead worker.
            models.Index(
                fields=["status", "not_before"],
                name="notification_due",
                condition=models.Q(status__in=["pending", "retrying"]),
            ),
            models.Index(fields=["target", "created_at"], name="notification_target_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.target}: {self.status}"
