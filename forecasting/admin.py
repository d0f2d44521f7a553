from __future__ import annotations

from django.contrib import admin, messages

from core.teams.admin_scoping import TeamScopedAdmin
from forecasting.models import (
    Anomaly,
    EvaluationRun,
    Feedback,
    Forecast,
    ForecastModel,
    ForecastScore,
    SeriesDetector,
    TeamDetection,
)
from forecasting.services.feedback import feedback_revoke


class ReadOnlyAdmin(TeamScopedAdmin):
    """Written by the detectors and forecasters; people look, they don't edit."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TeamDetection)
class TeamDetectionAdmin(TeamScopedAdmin):
    list_display = ["team", "enabled", "sensitivity", "forecasts_enabled"]
    list_editable = ["enabled", "sensitivity", "forecasts_enabled"]


@admin.register(SeriesDetector)
class SeriesDetectorAdmin(TeamScopedAdmin):
    list_display = ["series", "sensitivity", "points", "last_ts", "last_score", "trained_at"]
    list_filter = ["sensitivity", "series__team"]
    search_fields = ["series__metric"]
    fields = ["series", "sensitivity", "points", "last_ts", "last_score", "trained_at", "updated_at"]
    readonly_fields = ["series", "points", "last_ts", "last_score", "trained_at", "updated_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Anomaly)
class AnomalyAdmin(ReadOnlyAdmin):
    list_display = ["ts", "series", "kind", "value", "score", "lower", "upper"]
    list_filter = ["kind", "team"]
    search_fields = ["series__metric"]
    date_hierarchy = "ts"
    list_select_related = ["series"]


@admin.register(Feedback)
class FeedbackAdmin(TeamScopedAdmin):
    list_display = ["created_at", "series", "kind", "created_by", "revoked_at", "note"]
    list_filter = ["team", "kind"]
    readonly_fields = [
        "team",
        "series",
        "anomaly",
        "alert_id",
        "kind",
        "created_by",
        "created_at",
        "revoked_at",
        "revoked_by",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # given on an anomaly or an anomaly alert

    @admin.action(description="Revoke (the series' anomaly alerts become as eager as before)")
    def revoke(self, request, queryset) -> None:
        for feedback in queryset.filter(revoked_at=None):
            feedback_revoke(feedback=feedback, by=request.user)
        messages.success(request, "Revoked.")


@admin.register(ForecastModel)
class ForecastModelAdmin(ReadOnlyAdmin):
    list_display = ["series", "model", "selected_at", "live_mase", "live_smape", "live_count", "refreshed_at"]
    list_filter = ["model"]
    actions = ["reselect"]

    @admin.action(description="Choose the model again at the next refresh")
    def reselect(self, request, queryset) -> None:
        updated = queryset.update(model="", refreshed_at=None)
        messages.success(request, f"{updated} series will be backtested again within a few minutes.")

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super(ReadOnlyAdmin, self).has_change_permission(request)


@admin.register(Forecast)
class ForecastAdmin(ReadOnlyAdmin):
    list_display = ["series", "kind", "model", "generated_at", "start", "step_s"]
    list_filter = ["kind", "model"]


@admin.register(ForecastScore)
class ForecastScoreAdmin(ReadOnlyAdmin):
    list_display = ["series", "model", "horizon", "issued_at", "mase", "smape"]
    list_filter = ["model", "horizon"]


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "dataset", "series", "scores", "duration_s"]
    list_filter = ["kind"]
