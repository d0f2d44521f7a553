from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from alerts import matchers as label_matchers
from alerts.evaluators import registry
from alerts.models import (
    Alert,
    AlertEvent,
    AlertRule,
    ContactMethod,
    Escalation,
    EscalationLevel,
    EscalationLog,
    EscalationPolicy,
    EscalationRoute,
    GroupingRule,
    Incident,
    IncidentEvent,
    InhibitionRule,
    Integration,
    MaintenanceWindow,
    Notification,
    NotificationChannel,
    NotificationRule,
    OnCallRotation,
    RotationMember,
    RotationOverride,
    Service,
    Silence,
)
from alerts.selectors import coverage_gaps, on_call_at
from alerts.services.delivery import channel_test
from alerts.services.integrations import integration_create
from alerts.services.muting import muting_refresh_team
from alerts.services.rules import rule_backtest
from alerts.transports.base import PermanentError, TransientError
from hive_ops.teams.admin_scoping import PersonalAdmin, TeamScopedAdmin, TeamScopedInline


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


class AlertRuleForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=[])
    matchers = MatchersFormField()

    class Meta:
        model = AlertRule
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = registry.choices()


@admin.action(description="Backtest: what would these rules have fired in the last 7 days?")
def backtest_rules(modeladmin, request, queryset):
    results = [(rule, rule_backtest(rule=rule, days=7)) for rule in queryset.select_related("service")[:20]]
    return TemplateResponse(
        request,
        "admin/alerts/backtest.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Rule backtest (7 days)",
            "results": results,
        },
    )


@admin.register(AlertRule)
class AlertRuleAdmin(TeamScopedAdmin):
    form = AlertRuleForm
    list_display = ["name", "team", "kind", "metric", "service", "severity", "enabled", "updated_at"]
    list_filter = ["team", "kind", "enabled", "severity"]
    search_fields = ["name", "metric"]
    actions = [backtest_rules]
    fieldsets = [
        (None, {"fields": ["team", "service", "name", "kind", "enabled"]}),
        ("What to watch", {"fields": ["metric", "matchers", "aggregation", "window"]}),
        (
            "When to fire",
            {
                "fields": [
                    "comparator",
                    "critical_threshold",
                    "warning_threshold",
                    "recovery_threshold",
                    "for_duration",
                    "absence_after",
                    "params",
                ]
            },
        ),
        (
            "The alert",
            {
                "fields": [
                    "severity",
                    "warning_severity",
                    "labels",
                    "summary_template",
                    "description_template",
                    "runbook_url",
                ]
            },
        ),
    ]


class MaintenanceWindowInline(TeamScopedInline, admin.TabularInline):
    model = MaintenanceWindow
    extra = 0


@admin.register(Service)
class ServiceAdmin(TeamScopedAdmin):
    list_display = ["name", "slug", "team", "criticality", "revenue_per_minute", "ack_timeout", "auto_resolve_timeout"]
    list_filter = ["team", "criticality"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MaintenanceWindowInline]


class IntegrationCreateForm(forms.ModelForm):
    class Meta:
        model = Integration
        fields = ["team", "service", "kind", "name"]


@admin.register(Integration)
class IntegrationAdmin(TeamScopedAdmin):
    list_display = ["name", "kind", "team", "service", "key_prefix", "created_at", "last_event_at", "revoked_at"]
    list_filter = ["kind", "team"]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["key_prefix", "created_at", "last_event_at"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = IntegrationCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["team", "service", "kind", "name"]
        return ["team", "service", "kind", "name", "key_prefix", "created_at", "last_event_at", "revoked_at"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        integration, key = integration_create(
            team=data["team"], kind=data["kind"], name=data["name"], service=data.get("service")
        )
        obj.pk = integration.pk
        messages.warning(request, f"Integration created. Copy its key now, it is not shown again: {key}")

    @admin.action(description="Revoke selected integrations")
    def revoke(self, request, queryset) -> None:
        from django.utils import timezone

        count = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} integration(s).")


class SilenceForm(forms.ModelForm):
    matchers = MatchersFormField(required=True)

    class Meta:
        model = Silence
        fields = ["team", "matchers", "starts_at", "ends_at", "comment", "expire_on_resolve"]


@admin.register(Silence)
class SilenceAdmin(TeamScopedAdmin):
    change_role = "responder"  # responders silence while they work, as in the API
    form = SilenceForm
    list_display = ["__str__", "team", "starts_at", "ends_at", "created_by", "expired_at", "comment"]
    list_filter = ["team", "expired_at"]
    search_fields = ["comment"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        muting_refresh_team(team_id=obj.team_id)


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(TeamScopedAdmin):
    list_display = ["name", "service", "starts_at", "duration", "recurrence", "timezone", "until"]
    list_filter = ["recurrence", "service__team"]


class InhibitionRuleForm(forms.ModelForm):
    source_matchers = MatchersFormField(required=True)
    target_matchers = MatchersFormField(required=True)

    class Meta:
        model = InhibitionRule
        fields = "__all__"


@admin.register(InhibitionRule)
class InhibitionRuleAdmin(TeamScopedAdmin):
    form = InhibitionRuleForm
    list_display = ["name", "team", "enabled"]
    list_filter = ["team", "enabled"]


class GroupingRuleForm(forms.ModelForm):
    matchers = MatchersFormField()

    class Meta:
        model = GroupingRule
        fields = "__all__"


@admin.register(GroupingRule)
class GroupingRuleAdmin(TeamScopedAdmin):
    form = GroupingRuleForm
    list_display = ["name", "team", "position", "group_by", "group_window", "group_wait"]
    list_filter = ["team"]
    ordering = ["team", "position"]


class ReadOnlyInline(TeamScopedInline, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AlertEventInline(ReadOnlyInline):
    model = AlertEvent
    fields = ["at", "kind", "actor_name", "message"]
    readonly_fields = fields


@admin.register(Alert)
class AlertAdmin(TeamScopedAdmin):
    list_display = ["summary", "status", "severity", "muted", "flapping", "service", "team", "occurrences", "last_seen"]
    list_filter = ["status", "severity", "muted", "flapping", "source", "team"]
    search_fields = ["summary", "fingerprint", "dedup_key"]
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = [AlertEventInline]
    list_select_related = ["service", "team"]

    def has_add_permission(self, request) -> bool:
        return False


class IncidentEventInline(ReadOnlyInline):
    model = IncidentEvent
    fields = ["at", "kind", "actor_name", "message"]
    readonly_fields = fields


@admin.register(Incident)
class IncidentAdmin(TeamScopedAdmin):
    change_role = "responder"  # responders act on incidents, as in the API
    list_display = ["title", "status", "priority", "priority_override", "service", "team", "opened_at", "resolved_at"]
    list_filter = ["status", "priority", "team"]
    search_fields = ["title", "group_key"]
    readonly_fields = [
        "uid",
        "team",
        "service",
        "grouping_rule",
        "group_key",
        "status",
        "priority",
        "opened_at",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "time_to_acknowledge",
        "time_to_resolve",
    ]
    inlines = [IncidentEventInline]

    def has_add_permission(self, request) -> bool:
        return False


class EscalationLevelInline(TeamScopedInline, admin.StackedInline):
    model = EscalationLevel
    extra = 0
    filter_horizontal = ["users", "teams", "channels"]
    fields = [
        ("position", "wait", "strategy"),
        "users",
        "teams",
        "rotation",
        "channels",
        ("only_days", "only_from", "only_until", "timezone"),
        ("min_alerts", "min_alerts_window"),
    ]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(TeamScopedAdmin):
    list_display = ["name", "team", "repeat", "repeat_from_level"]
    list_filter = ["team"]
    search_fields = ["name"]
    inlines = [EscalationLevelInline]


class RouteForm(forms.ModelForm):
    matchers = MatchersFormField()

    class Meta:
        model = EscalationRoute
        fields = ["team", "position", "policy", "service", "severities", "matchers", "is_default"]


@admin.register(EscalationRoute)
class EscalationRouteAdmin(TeamScopedAdmin):
    form = RouteForm
    list_display = ["__str__", "team", "position", "service", "severities", "is_default"]
    list_filter = ["team", "is_default"]


class RotationMemberInline(TeamScopedInline, admin.TabularInline):
    model = RotationMember
    extra = 0


class RotationOverrideInline(TeamScopedInline, admin.TabularInline):
    model = RotationOverride
    extra = 0


@admin.register(OnCallRotation)
class OnCallRotationAdmin(TeamScopedAdmin):
    list_display = ["name", "team", "length", "handoff_time", "timezone", "on_call_now", "gaps_next_14_days"]
    list_filter = ["team", "length"]
    inlines = [RotationMemberInline, RotationOverrideInline]

    @admin.display(description="on call now")
    def on_call_now(self, rotation) -> str:
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        shift = on_call_at(rotation=rotation, at=timezone.now())
        if shift is None:
            return "nobody"
        user = get_user_model().objects.filter(pk=shift.user_id).first()
        return f"{user} until {shift.end:%Y-%m-%d %H:%M %Z}" + (" (override)" if shift.override else "")

    @admin.display(description="coverage gaps (14 days)")
    def gaps_next_14_days(self, rotation) -> str:
        from django.utils import timezone

        gaps = coverage_gaps(rotation=rotation, start=timezone.now())
        return ", ".join(f"{a:%m-%d %H:%M}–{b:%m-%d %H:%M}" for a, b in gaps) or "none"


@admin.action(description="Send a test notification")
def send_test(modeladmin, request, queryset):
    for channel in queryset:
        try:
            channel_test(channel=channel)
        except (TransientError, PermanentError) as exc:
            modeladmin.message_user(request, f"{channel}: failed: {exc}", level=messages.ERROR)
        else:
            modeladmin.message_user(request, f"{channel}: test notification sent")


SECRET_KEYS = ("url", "secret", "routing_key", "token", "password")
MASK = "****** (write-only: keep this to keep the stored value)"


def masked_config(config) -> dict:
    """A channel's config with its URLs (which carry tokens) and secrets replaced by MASK."""
    if not isinstance(config, dict):
        return config
    return {k: MASK if k in SECRET_KEYS and v else v for k, v in config.items()}


class ChannelForm(forms.ModelForm):
    """Secrets are write-only: typed on creation, masked afterwards; a masked value that comes
    back unchanged keeps the stored one, a new value replaces it."""

    class Meta:
        model = NotificationChannel
        fields = ["team", "kind", "name", "config"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "config" in self.fields:
            self.initial["config"] = masked_config(self.instance.config)

    def clean_config(self):
        config = self.cleaned_data["config"]
        stored = self.instance.config if self.instance.pk is not None else {}
        if not isinstance(config, dict) or not isinstance(stored, dict):
            return config
        return {k: stored.get(k) if v == MASK else v for k, v in config.items()}


@admin.register(NotificationChannel)
class NotificationChannelAdmin(TeamScopedAdmin):
    form = ChannelForm
    list_display = ["name", "kind", "team", "failing_since", "last_error"]
    list_filter = ["kind", "team"]
    readonly_fields = ["secret_free_config", "failing_since", "last_error"]
    actions = [send_test]

    def get_fields(self, request, obj=None):
        # Read-only pages show the stored value: they get the masked copy instead.
        editable = obj is None or self.has_change_permission(request, obj)
        config = "config" if editable else "secret_free_config"
        return ["team", "kind", "name", config, "failing_since", "last_error"]

    @admin.display(description="config")
    def secret_free_config(self, obj) -> str:
        return json.dumps(masked_config(obj.config))


class NotificationRuleInline(TeamScopedInline, admin.TabularInline):
    model = NotificationRule
    extra = 0


@admin.register(ContactMethod)
class ContactMethodAdmin(PersonalAdmin):
    list_display = ["user", "kind", "address"]
    search_fields = ["user__username", "address"]


@admin.register(NotificationRule)
class NotificationRuleAdmin(PersonalAdmin):
    list_display = ["user", "urgency", "position", "contact_method", "delay"]
    list_filter = ["urgency"]


@admin.register(Notification)
class NotificationAdmin(TeamScopedAdmin):
    """The delivery log (read-only)."""

    list_display = ["created_at", "kind", "target", "status", "attempts", "duration_ms", "incident", "level", "error"]
    list_filter = ["status", "kind"]
    search_fields = ["target", "dedup_key"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class EscalationLogInline(ReadOnlyInline):
    model = EscalationLog
    fields = ["at", "cycle", "level", "action", "detail"]
    readonly_fields = fields


@admin.register(Escalation)
class EscalationAdmin(TeamScopedAdmin):
    list_display = ["incident", "policy", "state", "cycle", "next_level", "next_step_at", "started_at", "stop_reason"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in Escalation._meta.fields]
    inlines = [EscalationLogInline]

    def has_add_permission(self, request) -> bool:
        return False


# SLOs and SLAs register their admin pages there.
from alerts.slo import admin as slo_admin  # noqa: E402, F401
