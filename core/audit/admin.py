from __future__ import annotations

from django.contrib import admin

from core.audit.exports import csv_response
from core.audit.models import AuditEvent
from core.teams.admin_scoping import TeamScopedAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(TeamScopedAdmin):
    """Read-only: the log can be searched and exported, never edited or deleted."""

    list_display = ["at", "actor_name", "action", "object_type", "object_repr", "source_ip", "via", "team"]
    list_filter = ["via", "object_type", "team"]
    search_fields = ["actor_name", "action", "object_repr", "object_id"]
    date_hierarchy = "at"
    actions = ["export_csv"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        return {k: v for k, v in super().get_actions(request).items() if k != "delete_selected"}

    @admin.action(description="Export the selected rows as CSV")
    def export_csv(self, request, queryset):
        return csv_response(queryset, "audit.csv")
