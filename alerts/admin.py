from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from alerts.admin_forms import RULE_SETTINGS, AlertRuleForm, MatchersFormField, ReadOnlyInline
from alerts.models import (
    Alert,
    AlertEvent,
    AlertRule,
    GroupingRule,
    Incident,
    IncidentEvent,
    InhibitionRule,
    Integration,
    MaintenanceWindow,
    Silence,
)
from alerts.models.rules import FIRE_FIELDS, OUTCOME_FIELDS, WATCH_FIELDS
from alerts.services.integrations import integration_create
from alerts.services.muting import muting_refresh_team
from alerts.services.rules import rule_backtest
from catalog.models import Service
from core.admin_widgets import NameListField, weekdays_field
from core.teams.admin_scoping import TeamScopedAdmin, TeamScopedInline


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
    autocomplete_fields = ["service"]
    actions = [backtest_rules]
    fieldsets = [
        (None, {"fields": ["team", "service", "name", "kind", "enabled"]}),
        ("What to watch", {"fields": WATCH_FIELDS}),
        (
            "When to fire",
            {
                "fields": [*FIRE_FIELDS, *[f"params__{setting.key}" for setting in RULE_SETTINGS]],
                "description": "Only the settings of the chosen kind are shown.",
            },
        ),
        ("The alert", {"fields": OUTCOME_FIELDS}),
    ]


class MaintenanceWindowForm(forms.ModelForm):
    weekdays = weekdays_field(label="Weekdays", help_text="Weekly windows: the days they recur on.")

    class Meta:
        model = MaintenanceWindow
        fields = "__all__"


class MaintenanceWindowInline(TeamScopedInline, admin.TabularInline):
    model = MaintenanceWindow
    form = MaintenanceWindowForm
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
    form = MaintenanceWindowForm
    autocomplete_fields = ["service"]
    list_display = ["name", "service", "starts_at", "duration", "recurrence", "timezone", "until"]
    list_filter = ["recurrence", "service__team"]


class InhibitionRuleForm(forms.ModelForm):
    source_matchers = MatchersFormField(required=True)
    target_matchers = MatchersFormField(required=True)
    equal = NameListField(help_text="Label names that must have the same value on both alerts, e.g. cluster.")

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
    group_by = NameListField(
        required=True, help_text="Alerts with the same values of these labels join one incident, e.g. service, cluster."
    )

    class Meta:
        model = GroupingRule
        fields = "__all__"


@admin.register(GroupingRule)
class GroupingRuleAdmin(TeamScopedAdmin):
    form = GroupingRuleForm
    list_display = ["name", "team", "position", "group_by", "group_window", "group_wait"]
    list_filter = ["team"]
    ordering = ["team", "position"]


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
