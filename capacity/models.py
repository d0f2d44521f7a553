"""Capacity planning: resources with their limits, allocation and cost, the latest analysis of
each (time to exhaustion, right-sizing), saved scenarios, analysis runs and weekly digests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from datetime import timedelta as td

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from capacity import calculations as calc
from catalog.models import Service
from core.teams.models import Team
from metrics.models import Series

MAX_HORIZON_DAYS = 365


class Resource(models.Model):
    """Something that can run out: a utilization series with a limit, an allocation and a cost."""

    class Kind(models.TextChoices):
        CPU = "cpu", "CPU"
        MEMORY = "memory"
        DISK = "disk"
        CONNECTIONS = "connections"
        QUEUE_DEPTH = "queue_depth", "queue depth"
        CUSTOM = "custom"

    class Scope(models.TextChoices):
        SERVICE = "service"
        HOST = "host"
        CLUSTER = "cluster"

    class LimitMode(models.TextChoices):
        ABSOLUTE = "absolute", "absolute (same unit as the series)"
        PERCENT = "percent", "percent (the series is a utilization in %)"

    class Unit(models.TextChoices):
        REPLICAS = "replicas"
        VCPU = "vcpu", "vCPU"
        GB = "gb", "GB"
        NODES = "nodes"
        CUSTOM = "custom", "units"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="capacity_resources")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CPU)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.SERVICE)
    scope_name = models.CharField(max_length=200, blank=True, help_text="the host or cluster name")
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="capacity_resources"
    )
    series = models.ForeignKey(
        Series, on_delete=models.SET_NULL, null=True, related_name="capacity_resources", help_text="utilization"
    )
    limit_mode = models.CharField(max_length=8, choices=LimitMode.choices, default=LimitMode.PERCENT)
    limit = models.FloatField(default=100.0, help_text="the value at which the resource is exhausted")
    allocation = models.FloatField(null=True, blank=True, help_text="current replicas, vCPU, GB, …")
    allocation_unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.REPLICAS)
    allocation_step = models.FloatField(default=1.0, help_text="allocation changes in steps of")
    min_allocation = models.FloatField(default=1.0, help_text="never recommend less than this")
    unit_cost = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="per allocation unit and month"
    )
    currency = models.CharField(max_length=3, default="USD")
    target_utilization = models.FloatField(default=70.0, help_text="% of capacity the forecast peak should stay under")
    scale_down_floor = models.FloatField(default=30.0, help_text="% of capacity: p95 under it suggests scaling down")
    horizon_days = models.PositiveIntegerField(default=90, help_text="look for exhaustion this far ahead (1–365)")
    window_days = models.PositiveIntegerField(default=30, help_text="size for the forecast peak of the next N days")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="resource_unique_team_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def capacity(self) -> float:
        """The series value at 100 % utilization."""
        return 100.0 if self.limit_mode == self.LimitMode.PERCENT else self.limit

    @property
    def verb(self) -> str:
        return "out" if self.allocation_unit in (self.Unit.REPLICAS, self.Unit.NODES) else "up"

    def sizing(self) -> calc.Sizing:
        return calc.Sizing(
            limit=self.limit,
            capacity=self.capacity,
            allocation=self.allocation,
            allocation_step=self.allocation_step,
            min_allocation=self.min_allocation,
            unit_cost=float(self.unit_cost),
            target=self.target_utilization / 100.0,
            floor=self.scale_down_floor / 100.0,
            window_days=float(self.window_days),
            verb=self.verb,
        )

    def clean(self) -> None:
        errors = {}
        if self.series_id and self.team_id and self.series.team_id != self.team_id:
            errors["series"] = "the series belongs to another team"
        if self.service_id and self.team_id and self.service.team_id != self.team_id:
            errors["service"] = "the service belongs to another team"
        if self.limit is None or self.limit <= 0:
            errors["limit"] = "must be above 0"
        elif self.limit_mode == self.LimitMode.PERCENT and self.limit > 100:
            errors["limit"] = "a percent limit is at most 100"
        if not 0 < (self.target_utilization or 0) <= 100:
            errors["target_utilization"] = "must be above 0 and at most 100 (%)"
        if not 0 <= (self.scale_down_floor or 0) < 100:
            errors["scale_down_floor"] = "must be from 0 to below 100 (%)"
        elif "target_utilization" not in errors and self.scale_down_floor >= self.target_utilization:
            errors["scale_down_floor"] = "must be below the target utilization"
        if self.allocation is not None and self.allocation <= 0:
            errors["allocation"] = "must be above 0 (or empty)"
        if not (self.allocation_step or 0) > 0:
            errors["allocation_step"] = "must be above 0"
        if (self.min_allocation or 0) < 0:
            errors["min_allocation"] = "must not be negative"
        if self.unit_cost is not None and self.unit_cost < 0:
            errors["unit_cost"] = "must not be negative"
        if not 1 <= (self.horizon_days or 0) <= MAX_HORIZON_DAYS:
            errors["horizon_days"] = f"must be from 1 to {MAX_HORIZON_DAYS}"
        if not 1 <= (self.window_days or 0) <= MAX_HORIZON_DAYS:
            errors["window_days"] = f"must be from 1 to {MAX_HORIZON_DAYS}"
        if errors:
            raise ValidationError(errors)


class Analysis(models.Model):
    """The latest analysis of a resource (recomputed hourly): what the fleet page, the API, the
    capacity alerts and the digest read."""

    class Status(models.TextChoices):
        OK = "ok"
        NO_DATA = "no_data", "no data"
        INSUFFICIENT = "insufficient", "too little history"
        FAILED = "failed"

    resource = models.OneToOneField(Resource, on_delete=models.CASCADE, primary_key=True, related_name="analysis")
    computed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OK)
    message = models.CharField(max_length=300, blank=True)
    horizon_days = models.PositiveIntegerField(default=90)
    exhausted = models.BooleanField(default=False, help_text="at or over the limit now")
    tte_p10_s = models.FloatField(null=True, blank=True)
    tte_p50_s = models.FloatField(null=True, blank=True)
    tte_p90_s = models.FloatField(null=True, blank=True)
    probability = models.FloatField(default=0, help_text="of exhaustion within the horizon")
    eta = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=64, blank=True)
    current_value = models.FloatField(null=True, blank=True)
    utilization = models.FloatField(null=True, blank=True, help_text="now, fraction of capacity")
    p95_utilization = models.FloatField(null=True, blank=True, help_text="last 14 days")
    peak_utilization = models.FloatField(null=True, blank=True, help_text="forecast peak (p90) in the window")
    growth_per_day = models.FloatField(null=True, blank=True)
    action = models.CharField(max_length=16, blank=True)
    new_allocation = models.FloatField(null=True, blank=True)
    monthly_cost_change = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    confidence = models.FloatField(default=0)
    reason = models.CharField(max_length=400, blank=True)
    risk = models.FloatField(default=0, help_text="sort key: higher is more urgent")
    details = models.JSONField(default=dict, blank=True, help_text="changes, model weights, evidence, forecast band")

    class Meta:
        verbose_name_plural = "analyses"
        indexes = [models.Index(fields=["-risk"], name="capacity_analysis_risk")]  # fleet table order

    def __str__(self) -> str:
        return f"{self.resource_id}: {self.eta or self.status}"

    @property
    def at_risk(self) -> bool:
        """Exhausted now, or more likely than not to run out within the horizon."""
        return self.exhausted or self.probability >= 0.5

    def exhaust_at(self, q: str):
        seconds = getattr(self, f"tte_{q}_s")
        return None if seconds is None else self.computed_at + td(seconds=seconds)

    @property
    def exhaust_dates(self) -> dict:
        return {q: self.exhaust_at(q) for q in ("p10", "p50", "p90")}

    def days(self, q: str) -> float | None:
        seconds = getattr(self, f"tte_{q}_s")
        return None if seconds is None else seconds / 86400.0

    @property
    def range_confidence(self) -> str:
        """How far the p10–p90 range can be trusted: high, medium or low ("" before this existed)."""
        return (self.details or {}).get("range", {}).get("confidence", "")

    @property
    def range_reason(self) -> str:
        return (self.details or {}).get("range", {}).get("reason", "")

    @property
    def confidence_label(self) -> str:
        return calc.confidence_label(self.confidence)

    @property
    def action_label(self) -> str:
        return self.action.replace("_", " ") if self.action else ""


class Scenario(models.Model):
    """A what-if, applied to any resource of the team and shown next to the baseline."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="capacity_scenarios")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    growth_pct_per_month = models.FloatField(default=0, help_text="compound growth of the load, % a month")
    event_date = models.DateField(null=True, blank=True, help_text="a one-off traffic multiplier from this day")
    event_days = models.PositiveIntegerField(default=1)
    event_multiplier = models.FloatField(default=1.0)
    added_allocation = models.FloatField(default=0, help_text="what if we add this many replicas/vCPU/GB")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="scenario_unique_team_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if not -100 < (self.growth_pct_per_month or 0) <= 1000:
            errors["growth_pct_per_month"] = "must be above -100 and at most 1000 (%)"
        if not 0 < (self.event_multiplier or 0) <= 100:
            errors["event_multiplier"] = "must be above 0 and at most 100"
        if not 1 <= (self.event_days or 0) <= MAX_HORIZON_DAYS:
            errors["event_days"] = f"must be from 1 to {MAX_HORIZON_DAYS}"
        if self.event_multiplier not in (None, 1, 1.0) and self.event_date is None:
            errors["event_date"] = "set the day the multiplier starts"
        if errors:
            raise ValidationError(errors)

    def as_calc(self) -> calc.Scenario:
        return scenario_of(
            name=self.name,
            growth_pct_per_month=self.growth_pct_per_month,
            event_date=self.event_date,
            event_days=self.event_days,
            event_multiplier=self.event_multiplier,
            added_allocation=self.added_allocation,
        )


def scenario_of(*, name, growth_pct_per_month=0, event_date=None, event_days=1, event_multiplier=1, added_allocation=0):
    at = datetime.combine(event_date, time(0), tzinfo=UTC).timestamp() if event_date else None
    return calc.Scenario(
        name=name,
        growth_pct_per_month=float(growth_pct_per_month or 0),
        event_at=at,
        event_days=float(event_days or 1),
        event_multiplier=float(event_multiplier or 1),
        added_allocation=float(added_allocation or 0),
    )


class AnalysisRun(models.Model):
    """One pass over resources (hourly, or "Analyse now"): its progress is what the UI shows."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, help_text="empty: every team")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scheduled = models.BooleanField(default=False, help_text="the hourly run over every team, split in chunk tasks")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"run {self.uid} ({self.status} {self.done}/{self.total})"


class AnalysisChunk(models.Model):
    """A share of a scheduled run, analysed by one `capacity.tasks.analyse_chunk` task. Its status
    makes counting it a one-time claim: a chunk analysed twice is stored twice, counted once."""

    class Status(models.TextChoices):
        PENDING = "pending"
        QUEUED = "queued"
        DONE = "done"

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    resource_ids = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="capacity_chunk_unique_run_index")]

    def __str__(self) -> str:
        return f"chunk {self.index} of {self.run_id} ({self.status})"


class DigestRun(models.Model):
    """The weekly capacity digest of a team; the unique week makes sending it a one-time claim."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="capacity_digests")
    week = models.DateField(help_text="the Monday of the week")
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    resources = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week"]
        constraints = [models.UniqueConstraint(fields=["team", "week"], name="digest_unique_team_week")]

    def __str__(self) -> str:
        return f"digest {self.team} {self.week}"
