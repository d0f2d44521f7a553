"""What the local mail sink received (development and demos; `make run` starts it)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SentMail(models.Model):
    received_at = models.DateTimeField(default=timezone.now)
    sender = models.CharField(max_length=500, blank=True)
    recipients = models.JSONField(default=list, help_text="envelope recipients, lower-cased")
    subject = models.CharField(max_length=1000, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["-received_at", "-id"], name="sentmail_recent")]

    def __str__(self) -> str:
        return f"{self.subject} to {', '.join(self.recipients)}"
