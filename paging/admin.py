"""Admin for escalation, on-call, channels, contact methods and deliveries: where team leads
configure paging. Limited to the user's teams and role (core.teams.admin_scoping)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages

from alerts.admin_forms import MatchersFormField, ReadOnlyInline
from core.teams.admin_scoping import PersonalAdmin, TeamScopedAdmin, TeamScopedInline
from paging.models import (
    ContactMethod,
    Escalation,
    EscalationLevel,
    EscalationLog,
    EscalationPolicy,
    EscalationRoute,
    Notification,
    NotificationChannel,
    NotificationRule,
    OnCallRotation,
    RotationMember,
    RotationOverride,
)
from paging.selectors import coverage_gaps, on_call_at
from paging.services.delivery import channel_test
from paging.transports.base import PermanentError, TransientError


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
