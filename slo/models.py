from __future__ import annotations

import re
import uuid
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone as django_timezone

from alerts.models.alerts import Severity
from catalog.models import Service
from core.teams.models import Team
from metrics import matchers as label_matchers
from slo.windows import valid_timezone


class SLO(models.Model):
    """A service level objective: which events (or minutes) are good, the objective, the window,
    the gap policy and the burn-rate alert tiers. Maths in slo.calculations."""

    class Kind(models.TextChoices):
        RATIO = "ratio", "ratio of good to total events"
        LATENCY = "latency", "latency (share of requests under a threshold)"
        AVAILABILITY = "availability", "availability (up/probe metrics)"
        THRESHOLD = "threshold", "metric within bound (share of minutes)"

    class Window(models.TextChoices):
        D7 = "7d", "rolling 7 days"
        D28 = "28d", "rolling 28 days"
        D30 = "30d", "rolling 30 days"
        MONTH = "month", "calendar month"

    class GapPolicy(models.TextChoices):
        GOOD = "good", "gaps count as good"
        BAD = "bad", "gaps count as bad"
        UNKNOWN = "unknown", "gaps are left out"

    class CounterType(models.TextChoices):
        CUMULATIVE = "cumulative", "cumulative (Prometheus counters)"
        DELTA = "delta", "delta (each sample counts events since the previous one)"

    class LatencySource(models.TextChoices):
        BUCKETS = "buckets", "histogram buckets (<metric>_bucket{le=threshold} / <metric>_count)"
        SAMPLES = "samples", "latency series judged per sample"

    class Bound(models.TextChoices):
        LTE = "lte", "<="
        LT = "lt", "<"
        GTE = "gte", ">="
        GT = "gt", ">"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="slos")
    service = models.ForeignKey(Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="slos")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    sli_kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.RATIO)
    # ratio: total and one of good / bad (two series, or one metric selected by labels)
    good_metric = models.CharField(max_length=200, blank=True)
    good_matchers = models.JSONField(default=list, blank=True)
    bad_metric = models.CharField(max_length=200, blank=True)
    bad_matchers = models.JSONField(default=list, blank=True)
    total_metric = models.CharField(max_length=200, blank=True)
    total_matchers = models.JSONField(default=list, blank=True)
    counter_type = models.CharField(max_length=12, choices=CounterType.choices, default=CounterType.CUMULATIVE)
    # latency, availability, threshold: one metric and its matchers
    metric = models.CharField(max_length=200, blank=True)
    matchers = models.JSONField(default=list, blank=True)
    latency_threshold = models.FloatField(null=True, blank=True, help_text="latency: good when <= this")
    latency_source = models.CharField(max_length=8, choices=LatencySource.choices, default=LatencySource.BUCKETS)
    bound_op = models.CharField(max_length=4, choices=Bound.choices, default=Bound.LTE)
    bound = models.FloatField(null=True, blank=True, help_text="threshold: a minute is good when value op bound")
    objective = models.FloatField(help_text="percent, e.g. 99.9")
    window = models.CharField(max_length=8, choices=Window.choices, default=Window.D30)
    timezone = models.CharField(max_length=64, default="UTC", help_text="calendar months start at local midnight")
    gap_policy = models.CharField(max_length=8, choices=GapPolicy.choices, default=GapPolicy.UNKNOWN)
    min_events = models.FloatField(
        default=10, help_text="low-traffic protection: a tier fires only with this many events in its long window"
    )
    alerting = models.BooleanField(default=True, help_text="burn-rate alerts")
    page_fast_enabled = models.BooleanField(default=True, help_text="burn ≥ 14.4 over 1 h and 5 min")
    page_fast_severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.CRITICAL)
    page_slow_enabled = models.BooleanField(default=True, help_text="burn ≥ 6 over 6 h and 30 min")
    page_slow_severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.CRITICAL)
    ticket_fast_enabled = models.BooleanField(default=True, help_text="burn ≥ 3 over 1 day and 2 h")
    ticket_fast_severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    ticket_slow_enabled = models.BooleanField(default=True, help_text="burn ≥ 1 over 3 days and 6 h")
    ticket_slow_severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    runbook_url = models.URLField(blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept by slo.services: how far the per-minute SLI is recorded, and the firing tiers.
    recorded_through = models.DateTimeField(null=True, blank=True, editable=False)
    page_tier = models.CharField(max_length=16, blank=True, editable=False)
    ticket_tier = models.CharField(max_length=16, blank=True, editable=False)
    evaluated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "alerts_slo"  # the table kept its name when SLOs moved out of alerts
        ordering = ["team", "name"]
        verbose_name = "SLO"
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="slo_unique_team_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def time_based(self) -> bool:
        return self.sli_kind in (self.Kind.AVAILABILITY, self.Kind.THRESHOLD)

    @property
    def objective_ratio(self) -> float:
        return self.objective / 100.0

    def enabled_tiers(self) -> list[str]:
        names = ("page_fast", "page_slow", "ticket_fast", "ticket_slow")
        return [n for n in names if getattr(self, f"{n}_enabled")]

    def tier_severity(self, tier: str) -> str:
        return getattr(self, f"{tier}_severity")

    def definition(self) -> tuple:
        """The fields the recorded per-minute SLI depends on (a change re-records it)."""
        return tuple(getattr(self, name) for name in DEFINITION_FIELDS)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.objective is None or not 0 < self.objective < 100:
            errors["objective"] = "must be a percentage between 0 and 100 (exclusive), e.g. 99.9"
        if not valid_timezone(self.timezone or ""):
            errors["timezone"] = f"unknown time zone {self.timezone!r} (use an IANA name such as Europe/Berlin)"
        if self.min_events is not None and self.min_events < 0:
            errors["min_events"] = "must not be negative"
        for name in ("good_matchers", "bad_matchers", "total_matchers", "matchers"):
            try:
                label_matchers.validate(getattr(self, name))
            except label_matchers.MatcherError as exc:
                errors[name] = str(exc)
        errors.update(self._kind_errors())
        if self.service_id and self.team_id and self.service.team_id != self.team_id:
            errors["service"] = "belongs to another team"
        if errors:
            raise ValidationError(errors)

    def _kind_errors(self) -> dict[str, str]:
        if self.sli_kind == self.Kind.RATIO:
            if not self.total_metric:
                return {"total_metric": "a ratio SLI needs the metric counting all events"}
            if bool(self.good_metric) == bool(self.bad_metric):
                return {"good_metric": "set exactly one of good_metric and bad_metric"}
            return {}
        if not self.metric:
            return {"metric": f"a {self.sli_kind} SLI needs a metric"}
        if self.sli_kind == self.Kind.LATENCY and self.latency_threshold is None:
            return {"latency_threshold": "a latency SLI needs the threshold (same unit as the metric)"}
        if self.sli_kind == self.Kind.THRESHOLD and self.bound is None:
            return {"bound": "a threshold SLI needs the bound"}
        return {}


DEFINITION_FIELDS = (
    "sli_kind",
    "good_metric",
    "good_matchers",
    "bad_metric",
    "bad_matchers",
    "total_metric",
    "total_matchers",
    "counter_type",
    "metric",
    "matchers",
    "latency_threshold",
    "latency_source",
    "bound_op",
    "bound",
)


class SLOHour(models.Model):
    """The recorded per-minute SLI of one SLO for one hour (like a recording rule): good and
    total units per minute (null: no data), their sums, and the sample count of the source
    series in the hour (to notice late data). Written only by slo.recording."""

    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="hours")
    hour = models.DateTimeField()
    good = ArrayField(models.FloatField(null=True), size=60)
    total = ArrayField(models.FloatField(null=True), size=60)
    good_sum = models.FloatField(default=0)
    total_sum = models.FloatField(default=0)
    observed = models.PositiveSmallIntegerField(default=0, help_text="minutes with data")
    samples = models.BigIntegerField(default=0)

    class Meta:
        db_table = "alerts_slohour"
        constraints = [
            # Covering: statuses sum whole hours with an index-only scan (slo.selectors).
            models.UniqueConstraint(
                fields=["slo", "hour"],
                include=["good_sum", "total_sum", "observed"],
                name="slohour_unique_slo_hour_sums",
            )
        ]

    def __str__(self) -> str:
        return f"{self.slo_id}@{self.hour:%Y-%m-%d %H:00}"


EMAIL_SPLIT = re.compile(r"[\s,;]+")


class SLA(models.Model):
    """Business terms on top of an SLO: customer, contractual target, credits per breach tier,
    and who gets the monthly report."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="slas")
    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="slas")
    name = models.CharField(max_length=200)
    customer = models.CharField(max_length=200)
    target = models.FloatField(help_text="contractual target, percent")
    monthly_fee = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="EUR")
    credit_tiers = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"below": 99.9, "credit_percent": 10}, {"below": 99.0, "credit_percent": 25}]',
    )
    timezone = models.CharField(max_length=64, default="UTC", help_text="report months are local calendar months")
    stakeholders = models.TextField(blank=True, help_text="e-mail addresses for the monthly report")
    last_report_month = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        db_table = "alerts_sla"
        ordering = ["team", "customer", "name"]
        verbose_name = "SLA"
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="sla_unique_team_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer})"

    @property
    def target_ratio(self) -> float:
        return self.target / 100.0

    def stakeholder_list(self) -> list[str]:
        return [e for e in EMAIL_SPLIT.split(self.stakeholders or "") if e]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.target is None or not 0 < self.target < 100:
            errors["target"] = "must be a percentage between 0 and 100 (exclusive)"
        if not valid_timezone(self.timezone or ""):
            errors["timezone"] = f"unknown time zone {self.timezone!r}"
        if self.slo_id and self.team_id and self.slo.team_id != self.team_id:
            errors["slo"] = "belongs to another team"
        if self.monthly_fee is not None and self.monthly_fee < 0:
            errors["monthly_fee"] = "must not be negative"
        for address in self.stakeholder_list():
            try:
                validate_email(address)
            except ValidationError:
                errors["stakeholders"] = f"not an e-mail address: {address!r}"
                break
        tiers_error = credit_tiers_error(self.credit_tiers)
        if tiers_error:
            errors["credit_tiers"] = tiers_error
        if errors:
            raise ValidationError(errors)


def credit_tiers_error(tiers: object) -> str | None:
    if not isinstance(tiers, list):
        return 'must be a list of {"below": percent, "credit_percent": percent}'
    for i, tier in enumerate(tiers):
        if not isinstance(tier, dict) or set(tier) != {"below", "credit_percent"}:
            return f'tier {i}: expected exactly the keys "below" and "credit_percent"'
        for key in ("below", "credit_percent"):
            value = tier[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
                return f"tier {i}: {key} must be a number from 0 to 100"
    return None
