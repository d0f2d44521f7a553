from __future__ import annotations

from django.contrib import admin

from core.teams.admin_scoping import TeamScopedAdmin
from metrics.models import Series


@admin.register(Series)
class SeriesAdmin(TeamScopedAdmin):
    list_display = ["metric", "labels", "unit", "team", "created_at"]
    list_filter = ["team", "metric"]
    search_fields = ["metric", "labels"]
    readonly_fields = ["uid", "team", "metric", "labels", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # series are created by ingestion
