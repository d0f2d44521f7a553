from __future__ import annotations

from django.db import models
from django.utils import timezone

from core.teams.models import Team


class ExecutiveReport(models.Model):
    """One weekly executive report sent to a team's stakeholders: the row is the claim (one
    sender per team and week) and the delivery log."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="executive_reports")
    week = models.DateField(help_text="Monday (UTC) the reported week starts")
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week", "team"]
        constraints = [models.UniqueConstraint(fields=["team", "week"], name="executivereport_unique_team_week")]

    def __str__(self) -> str:
        return f"{self.team} week of {self.week}"
