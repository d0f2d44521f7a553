from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from capacity import services
from capacity.models import Analysis, AnalysisRun, DigestRun, Resource, Scenario
from core.teams.admin_scoping import TeamScopedAdmin, TeamScopedInline


class AnalysisInline(TeamScopedInline, admin.StackedInline):
    model = Analysis
    can_delete = False
    extra = 0
    fields = [
        "computed_at",
        "status",
        "eta",
        "probability",
        "model",
        "action",
        "new_allocation",
        "monthly_cost_change",
        "confidence",
        "reason",
    ]
    readonly_fields = fields


class ResourceForm(forms.ModelForm):
    class Meta:
        model = Resource
        fields = "__all__"
        help_texts = {
            "kind": "What runs out; it sets the wording of the recommendations.",
            "scope": "Whether the series measures a whole service, one host or a cluster.",
            "scope_name": "The host or cluster name (host and cluster scopes).",
            "service": "The service that uses the resource: type part of its name.",
            "series": "The utilization series the forecast is made from: type part of the metric name.",
            "owner": "Who receives the weekly capacity digest about it.",
            "limit_mode": "Percent: the series is a utilization in %; absolute: the limit is in the series' unit.",
            "limit": "The value at which the resource is exhausted (100 for a percentage).",
            "allocation": "What is provisioned now (replicas, vCPU, GB …); recommendations change it.",
            "unit_cost": "The monthly cost of one allocation unit, for the cost of a recommendation.",
        }


@admin.register(Resource)
class ResourceAdmin(TeamScopedAdmin):
    form = ResourceForm
    list_display = [
        "name",
        "team",
        "kind",
        "scope",
        "scope_name",
        "limit",
        "allocation",
        "unit_cost",
        "eta",
        "action",
        "enabled",
    ]
    list_filter = ["team", "kind", "scope", "enabled"]
    search_fields = ["name", "scope_name"]
    autocomplete_fields = ["series", "service", "owner"]
    inlines = [AnalysisInline]
    actions = ["analyse"]
    fieldsets = [
        (None, {"fields": ["team", "name", "kind", "scope", "scope_name", "service", "series", "owner", "enabled"]}),
        ("Limit", {"fields": ["limit_mode", "limit", "horizon_days"]}),
        (
            "Allocation and cost",
            {"fields": ["allocation", "allocation_unit", "allocation_step", "min_allocation", "unit_cost", "currency"]},
        ),
        ("Sizing", {"fields": ["target_utilization", "scale_down_floor", "window_days"]}),
    ]

    @admin.display(description="full")
    def eta(self, obj):
        analysis = getattr(obj, "analysis", None)
        return analysis.eta if analysis else "–"

    @admin.display(description="recommendation")
    def action(self, obj):
        analysis = getattr(obj, "analysis", None)
        return analysis.action_label if analysis else "–"

    @admin.action(description="Analyse now")
    def analyse(self, request, queryset):
        done, failed = services.analyses_refresh(resources=list(queryset.select_related("series")))
        self.message_user(request, f"{done} resource(s) analysed, {failed} failed", messages.SUCCESS)


@admin.register(Scenario)
class ScenarioAdmin(TeamScopedAdmin):
    list_display = ["name", "team", "growth_pct_per_month", "event_date", "event_multiplier", "added_allocation"]
    list_filter = ["team"]


@admin.register(AnalysisRun)
class AnalysisRunAdmin(TeamScopedAdmin):
    list_display = ["uid", "team", "scheduled", "status", "done", "total", "failed", "created_at", "duration_s"]
    list_filter = ["status", "scheduled"]
    readonly_fields = [f.name for f in AnalysisRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # written by the analysis and digest tasks


@admin.register(DigestRun)
class DigestRunAdmin(TeamScopedAdmin):
    list_display = ["team", "week", "sent_at", "resources"]
    readonly_fields = [f.name for f in DigestRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # written by the analysis and digest tasks
