"""Admin building blocks shared by the alerts, SLO and paging admins."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from hive_ops.teams.admin_scoping import TeamScopedInline
from metrics import matchers as label_matchers


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
