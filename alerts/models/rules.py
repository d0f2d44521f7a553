from __future__ import annotations

import uuid
from datetime import timedelta as td

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from alerts.evaluators import registry
from alerts.models.alerts import Severity
from catalog.models import Service
from core.teams.models import Team
from metrics import matchers as label_matchers
from metrics.models import Series

# A rule's fields in the order the admin and the API show them: what it watches (WATCH_FIELDS) and
# when it fires (FIRE_FIELDS), then what the alert it raises says (OUTCOME_FIELDS).
WATCH_FIELDS = ["metric", "matchers", "aggregation", "window"]
FIRE_FIELDS = [
    "comparator",
    "critical_threshold",
    "warning_threshold",
    "recovery_threshold",
    "for_duration",
    "absence_after",
]
CONDITION_FIELDS = [*WATCH_FIELDS, *FIRE_FIELDS]
OUTCOME_FIELDS = [
    "severity",
    "warning_severity",
    "labels",
    "summary_template",
    "description_template",
    "runbook_url",
]


class AlertRule(models.Model):
    """A condition evaluated per matching series. `kind` names an evaluator in the registry
    (alerts.evaluators): threshold and absence here, anomaly and forecast breach from forecasting."""

    class Aggregation(models.TextChoices):
        AVG = "avg"
        MIN = "min"
        MAX = "max"
        P95 = "p95"
        LAST = "last"
        RATE = "rate", "rate of change (per second)"

    class Comparator(models.TextChoices):
        GT = "gt", ">"
        GTE = "gte", ">="
        LT = "lt", "<"
        LTE = "lte", "<="

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="alert_rules")
    service = models.ForeignKey(Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="rules")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, default="threshold")
    enabled = models.BooleanField(default=True)
    metric = models.CharField(max_length=200)
    matchers = models.JSONField(default=list, blank=True, help_text='[{"name": "host", "op": "=~", "value": "a.*"}]')
    aggregation = models.CharField(max_length=8, choices=Aggregation.choices, default=Aggregation.AVG)
    window = models.DurationField(default=td(minutes=5))
    comparator = models.CharField(max_length=4, choices=Comparator.choices, default=Comparator.GT)
    critical_threshold = models.FloatField(null=True, blank=True)
    warning_threshold = models.FloatField(null=True, blank=True)
    recovery_threshold = models.FloatField(
        null=True, blank=True, help_text="hysteresis: a firing alert resolves only past this value"
    )
    for_duration = models.DurationField(default=td(0), help_text="pending this long before firing")
    absence_after = models.DurationField(default=td(minutes=10), help_text="absence rules: silence this long")
    params = models.JSONField(default=dict, blank=True, help_text="settings of other rule kinds")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.CRITICAL)
    warning_severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    labels = models.JSONField(default=dict, blank=True, help_text="added to the labels of every alert")
    summary_template = models.CharField(
        max_length=300,
        default="{{ rule.name }}: {{ metric }} is {{ value }}",
        help_text="{{ labels.host }}, {{ value }}",
    )
    description_template = models.TextField(blank=True)
    runbook_url = models.URLField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team", "name"]
        indexes = [models.Index(fields=["team", "metric"], name="alertrule_team_metric")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind not in registry.kinds():
            raise ValidationError({"kind": f"unknown rule kind; available: {', '.join(registry.kinds())}"})
        try:
            label_matchers.validate(self.matchers)
        except label_matchers.MatcherError as exc:
            raise ValidationError({"matchers": str(exc)}) from None
        registry.get(self.kind).validate(self)


class RuleState(models.Model):
    """Where one rule stands for one series: the memory behind `for` and hysteresis."""

    class Level(models.TextChoices):
        OK = "ok"
        WARNING = "warning"
        CRITICAL = "critical"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, null=True, blank=True)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.OK)
    pending_level = models.CharField(max_length=8, choices=Level.choices, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "series"], name="rulestate_unique_rule_series"),
            models.UniqueConstraint(
                fields=["rule"], condition=models.Q(series=None), name="rulestate_unique_rule_without_series"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} / {self.series_id}: {self.level}"
