from __future__ import annotations

import uuid
from datetime import timedelta as td

from django.db import models

from core.teams.models import Team


class Service(models.Model):
    """Something a team runs; alerts and incidents belong to it (PagerDuty's service model)."""

    class Criticality(models.IntegerChoices):
        TIER1 = 1, "tier 1 (business critical)"
        TIER2 = 2, "tier 2"
        TIER3 = 3, "tier 3"
        TIER4 = 4, "tier 4 (internal)"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, help_text="matched against the `service` label of alerts and series")
    description = models.TextField(blank=True)
    criticality = models.PositiveSmallIntegerField(choices=Criticality.choices, default=Criticality.TIER2)
    revenue_per_minute = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    ack_timeout = models.DurationField(default=td(minutes=30), help_text="re-trigger acknowledged alerts after")
    auto_resolve_timeout = models.DurationField(
        default=td(hours=4), null=True, blank=True, help_text="resolve external alerts not seen for this long"
    )

    class Meta:
        db_table = "alerts_service"  # the table kept its name when services moved out of alerts
        ordering = ["team", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "slug"], name="service_unique_team_slug")]

    def __str__(self) -> str:
        return self.name
