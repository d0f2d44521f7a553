"""Admin building blocks shared by the alerts, SLO and paging admins."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from alerts.evaluators import registry
from alerts.models import AlertRule, Severity
from alerts.models.rules import CONDITION_FIELDS, OUTCOME_FIELDS
from core.admin_widgets import CheckboxListField, KeyValueField, KindSetting, KindSettingsMixin
from core.teams.admin_scoping import TeamScopedInline
from metrics import matchers as label_matchers

RULE_KIND_HELP = (
    "threshold: a value crosses a limit; absence: no data arrives; anomaly: the learned baseline is left; "
    "forecast breach: the forecast says the limit will be crossed soon."
)
RULE_HELP = {
    "team": "The team that owns the rule and receives its alerts.",
    "service": "Optional: the service the alerts belong to (its criticality sets the incident priority).",
    "metric": "The metric name to watch, e.g. http_request_duration_seconds.",
    "aggregation": "How the points in the window become one value per series.",
    "window": "How much recent data each evaluation looks at (e.g. 00:05:00 for 5 minutes).",
    "comparator": "Which side of the threshold is bad.",
    "critical_threshold": "The value that raises a critical alert (threshold and forecast-breach rules).",
    "warning_threshold": "Optional: a value that raises a warning first.",
    "recovery_threshold": "Optional: a firing alert resolves only once the value is back past this one.",
    "for_duration": "The condition must hold this long before the alert fires (0 = at once).",
    "absence_after": "Absence rules: fire when no point arrived for this long.",
    "severity": "Severity of the alert when the critical level is reached.",
    "warning_severity": "Severity of the alert at the warning level.",
    "summary_template": "The alert's title; {{ value }}, {{ metric }} and {{ labels.host }} are filled in.",
    "runbook_url": "Where responders find what to do; shown on the alert and in notifications.",
}


def severities_field(**kwargs) -> CheckboxListField:
    """Severities as checkboxes, most severe first."""
    kwargs.setdefault("help_text", "Tick the severities it applies to; none ticked means any severity.")
    return CheckboxListField(choices=Severity.choices, **kwargs)


class MatchersFormField(forms.CharField):
    """Matchers typed as text: service="checkout", host=~"web-.*", env!="dev"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", 'e.g. service="checkout", host=~"web-.*" (operators =, !=, =~, !~)')
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 80}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return label_matchers.render(value) if isinstance(value, list) else value

    def to_python(self, value):
        try:
            return label_matchers.parse(value or "")
        except label_matchers.MatcherError as exc:
            raise forms.ValidationError(str(exc)) from None


class ReadOnlyInline(TeamScopedInline, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# Per-kind rule parameters (AlertRule.params), as the evaluators read and validate them.
RULE_SETTINGS = [
    KindSetting(
        "points",
        forms.IntegerField(
            label="Points in a row",
            min_value=1,
            max_value=30,
            help_text="How many consecutive anomalous points within the window fire the alert (1–30; default 1).",
        ),
        kinds=("anomaly",),
    ),
    KindSetting(
        "threshold",
        forms.FloatField(
            label="Anomaly score threshold",
            min_value=0.01,
            max_value=0.99,
            help_text="Fire at this anomaly score (0.01–0.99). Empty: follow the series' sensitivity and the "
            "“not an anomaly” feedback.",
        ),
        kinds=("anomaly",),
    ),
    KindSetting(
        "horizon_minutes",
        forms.IntegerField(
            label="Look ahead (minutes)",
            min_value=5,
            max_value=24 * 60,
            help_text="How far ahead the forecast may cross the critical threshold (5–1440 minutes; default 60).",
        ),
        kinds=("forecast_breach",),
    ),
    KindSetting(
        "probability",
        forms.FloatField(
            label="Probability to fire",
            min_value=0.01,
            max_value=0.99,
            help_text="Fire when the forecast gives at least this probability of a breach (e.g. 0.8 = 80 %).",
        ),
        kinds=("forecast_breach",),
    ),
    KindSetting(
        "warning_probability",
        forms.FloatField(
            label="Probability for a warning",
            min_value=0.01,
            max_value=0.99,
            help_text="Optional: a lower probability that raises a warning first.",
        ),
        kinds=("forecast_breach",),
    ),
]


class AlertRuleForm(KindSettingsMixin, forms.ModelForm):
    """Rules: the kind's own settings instead of a JSON box; new rules start as thresholds."""

    kind = forms.ChoiceField(choices=[], initial="threshold", help_text=RULE_KIND_HELP)
    matchers = MatchersFormField()
    labels = KeyValueField(help_text="Labels added to every alert of this rule (routes and silences match them).")
    json_field = "params"
    kind_settings = RULE_SETTINGS

    class Meta:
        model = AlertRule
        fields = [  # params: through the settings above
            "team",
            "service",
            "name",
            "kind",
            "enabled",
            *CONDITION_FIELDS,
            *OUTCOME_FIELDS,
        ]
        help_texts = RULE_HELP

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = registry.choices()
        if "absence_after" in self.fields:
            self.fields["absence_after"].widget.attrs.update({"data-kinds": "absence", "data-kind-field": "kind"})

    def clean(self):
        data = super().clean()
        params = self.instance.params or {}
        warning, probability = params.get("warning_probability"), params.get("probability", 0.8)
        if warning is not None and warning >= probability:
            self.add_error("params__warning_probability", "Must be below the probability to fire.")
        return data
