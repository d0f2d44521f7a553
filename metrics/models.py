"""Series and their samples.

The samples and rollup tables are created by hand-written SQL in the migrations (native range
partitions on plain PostgreSQL, a hypertable and continuous aggregates on TimescaleDB), so their
models are unmanaged: Django reads them, the ingest path writes them with COPY.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from core.teams.models import Team


class Series(models.Model):
    """One time series: a metric name and a canonical label set (sorted keys, string values)."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="series")
    metric = models.CharField(max_length=200)
    labels = models.JSONField(default=dict)
    unit = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "series"
        ordering = ["metric", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "metric", "labels"], name="series_unique_team_metric_labels")
        ]
        indexes = [models.Index(fields=["team", "metric"], name="series_team_metric")]

    def __str__(self) -> str:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return f"{self.metric}{{{labels}}}"


class Sample(models.Model):
    pk = models.CompositePrimaryKey("series_id", "ts")
    series = models.ForeignKey(Series, on_delete=models.DO_NOTHING, db_constraint=False)
    ts = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        managed = False
        db_table = "metrics_sample"

    def __str__(self) -> str:
        return f"{self.series_id}@{self.ts.isoformat()}={self.value}"


class RollupBase(models.Model):
    pk = models.CompositePrimaryKey("series_id", "bucket")
    series = models.ForeignKey(Series, on_delete=models.DO_NOTHING, db_constraint=False)
    bucket = models.DateTimeField()
    min = models.FloatField()
    max = models.FloatField()
    avg = models.FloatField()
    count = models.BigIntegerField()
    last = models.FloatField()

    class Meta:
        abstract = True
        managed = False

    def __str__(self) -> str:
        return f"{self.series_id}@{self.bucket.isoformat()}"


class Rollup1m(RollupBase):
    class Meta(RollupBase.Meta):
        db_table = "metrics_rollup_1m"


class Rollup1h(RollupBase):
    class Meta(RollupBase.Meta):
        db_table = "metrics_rollup_1h"
