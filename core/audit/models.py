"""The audit log: one append-only row per configuration change and per state transition.
A database trigger (migration 0001) refuses UPDATE and DELETE, so not even the admin or a bug
can rewrite history. Links to teams and users are plain ids, so deleting them keeps the rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    team = models.ForeignKey(
        "teams.Team", on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(max_length=200, help_text="user, token, rule, integration or system")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    via = models.CharField(max_length=16, blank=True, help_text="api, admin, page, task …")
    action = models.CharField(max_length=64, help_text="create, update, delete, or <object>.<transition>")
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["team", "-at"], name="audit_team_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_type} {self.object_id}"
