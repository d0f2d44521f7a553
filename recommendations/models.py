from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.teams.models import Team


class Decision(models.Model):
    """A lead accepted or dismissed one recommendation. The key holds a coarse bucket of the
    evidence, so a dismissed item comes back (with a new key) when its evidence changes a lot."""

    class Choice(models.TextChoices):
        ACCEPTED = "accepted"
        DISMISSED = "dismissed"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="recommendation_decisions")
    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=32)
    title = models.CharField(max_length=300)
    decision = models.CharField(max_length=10, choices=Choice.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    by_name = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        constraints = [models.UniqueConstraint(fields=["team", "key"], name="decision_unique_team_key")]

    def __str__(self) -> str:
        return f"{self.decision} {self.key}"
