"""Admin for escalation, on-call, channels, contact methods and deliveries: where team leads
configure paging. Limited to the user's teams and role (core.teams.admin_scoping)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from alerts.admin_forms import MatchersFormField, ReadOnlyInline, severities_field
from core.admin_widgets import EmailListField, KindSetting, KindSettingsMixin, weekdays_field
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


class EscalationLevelForm(forms.ModelForm):
    only_days = weekdays_field(label="Only on these days")

    class Meta:
        model = EscalationLevel
        fields = "__all__"
        help_texts = {
            "position": "Levels run in this order (1 first).",
            "wait": "How long this level has to acknowledge before the next level is paged (1 minute to 24 hours).",
            "strategy": "Notify every target at once, or one target per escalation in turn.",
            "users": "People paged at this level.",
            "teams": "Every member of these teams is paged.",
            "rotation": "Whoever is on call in this rotation is paged.",
            "channels": "Channels (Slack, e-mail, webhooks …) that get the incident.",
            "only_from": "Optional: this level applies only from this local time …",
            "only_until": "… until this local time (overnight ranges work, e.g. 22:00 to 06:00).",
            "timezone": "The time zone of the days and times above, e.g. Europe/Berlin.",
            "min_alerts": "Optional: only page at this level when more than this many alerts arrived …",
            "min_alerts_window": "… within this period (e.g. 00:10:00).",
        }


class EscalationLevelInline(TeamScopedInline, admin.StackedInline):
    model = EscalationLevel
    form = EscalationLevelForm
    extra = 0
    autocomplete_fields = ["users", "teams", "rotation", "channels"]
    fields = [
        ("position", "wait", "strategy"),
        "users",
        "teams",
        "rotation",
        "channels",
        ("only_days", "only_from", "only_until", "timezone"),
        ("min_alerts", "min_alerts_window"),
    ]


NO_ROUTE = (
    "No escalation route sends incidents to this policy, so it never pages anyone. "
    "Add a route that points to it (or mark one as the team's default)."
)


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(TeamScopedAdmin):
    list_display = ["name", "team", "routed", "repeat", "repeat_from_level"]
    list_filter = ["team"]
    search_fields = ["name"]
    inlines = [EscalationLevelInline]

    def get_queryset(self, request):
        policies = super().get_queryset(request).annotate(route_count=Count("escalationroute"))
        return policies.order_by(*EscalationPolicy._meta.ordering)  # GROUP BY drops Meta.ordering

    @admin.display(description="routed", ordering="route_count")
    def routed(self, policy) -> str:
        count = getattr(policy, "route_count", None)
        if count is None:
            count = EscalationRoute.objects.filter(policy=policy).count()
        if count:
            return f"{count} route{'s' if count > 1 else ''}"
        return format_html('<span class="hive-badge-warn">⚠ no route: never pages</span>')

    def change_view(self, request, object_id, form_url="", extra_context=None):
        policy = self.get_object(request, object_id)
        if (
            policy is not None
            and request.method == "GET"
            and not EscalationRoute.objects.filter(policy=policy).exists()
        ):
            self.warn_unrouted(request, policy)
        return super().change_view(request, object_id, form_url, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        if not EscalationRoute.objects.filter(policy=obj).exists():
            self.warn_unrouted(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def warn_unrouted(self, request, policy) -> None:
        add = reverse("admin:paging_escalationroute_add")
        link = format_html('<a href="{}?team={}&amp;policy={}">Add a route</a>', add, policy.team_id, policy.pk)
        messages.warning(request, format_html("{} {}", NO_ROUTE, link))


class RouteForm(forms.ModelForm):
    matchers = MatchersFormField()
    severities = severities_field(label="Severities")

    class Meta:
        model = EscalationRoute
        fields = ["team", "position", "policy", "service", "severities", "matchers", "is_default"]
        help_texts = {
            "position": "Routes are tried in this order (lowest first); the first that matches wins.",
            "policy": "The escalation policy that pages people for matching incidents.",
            "service": "Optional: only incidents of this service.",
            "is_default": "Used when no other route matches.",
        }


@admin.register(EscalationRoute)
class EscalationRouteAdmin(TeamScopedAdmin):
    form = RouteForm
    list_display = ["__str__", "team", "position", "service", "severities", "is_default"]
    list_filter = ["team", "is_default"]
    autocomplete_fields = ["policy", "service"]


class RotationMemberInline(TeamScopedInline, admin.TabularInline):
    model = RotationMember
    extra = 0
    autocomplete_fields = ["user"]


class RotationOverrideInline(TeamScopedInline, admin.TabularInline):
    model = RotationOverride
    extra = 0
    autocomplete_fields = ["user"]


class RotationForm(forms.ModelForm):
    class Meta:
        model = OnCallRotation
        fields = "__all__"
        help_texts = {
            "length": "How long each person's shift lasts.",
            "custom_hours": "Custom shifts only: the length of a shift in hours.",
            "handoff_time": "When one shift hands over to the next, in the rotation's time zone.",
            "timezone": "The time zone of the handoff, e.g. Europe/Berlin.",
        }


@admin.register(OnCallRotation)
class OnCallRotationAdmin(TeamScopedAdmin):
    form = RotationForm
    search_fields = ["name"]
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
MASK = "•••••• (hidden)"


def masked_config(config) -> dict:
    """A channel's config with its URLs (which carry tokens) and secrets replaced by MASK."""
    if not isinstance(config, dict):
        return config
    return {k: MASK if k in SECRET_KEYS and v else v for k, v in config.items()}


CHANNEL_SETTINGS = [
    KindSetting(
        "to",
        EmailListField(label="Recipients", help_text="E-mail addresses, separated by commas."),
        kinds=("email",),
        required_for=("email",),
    ),
    KindSetting(
        "url",
        forms.URLField(
            label="Webhook URL",
            assume_scheme="https",
            widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
            help_text="Where messages are posted. Write-only: it carries a token, so it is never shown again.",
        ),
        kinds=("webhook", "slack", "teams", "pagerduty"),
        required_for=("webhook", "slack", "teams"),
        secret=True,
    ),
    KindSetting(
        "secret",
        forms.CharField(
            label="Signing secret",
            widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
            help_text="Optional: requests carry an X-HiveOps-Signature HMAC made with it. Write-only.",
        ),
        kinds=("webhook",),
        secret=True,
    ),
    KindSetting(
        "routing_key",
        forms.CharField(
            label="Routing key",
            widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
            help_text="The integration key of the PagerDuty service (Events API v2). Write-only.",
        ),
        kinds=("pagerduty",),
        required_for=("pagerduty",),
        secret=True,
    ),
]
CHANNEL_FIELDS = [f"config__{setting.key}" for setting in CHANNEL_SETTINGS]


class ChannelForm(KindSettingsMixin, forms.ModelForm):
    """Per-kind settings instead of a JSON box. Secrets (URLs carry tokens) are write-only:
    typed on creation, never shown again; left empty on a change, the stored value stays."""

    json_field = "config"
    kind_settings = CHANNEL_SETTINGS

    class Meta:
        model = NotificationChannel
        fields = ["team", "kind", "name"]
        help_texts = {
            "kind": "Where messages go; the settings below change with it.",
            "name": "Shown in escalation levels and in the delivery log.",
        }


@admin.register(NotificationChannel)
class NotificationChannelAdmin(TeamScopedAdmin):
    form = ChannelForm
    list_display = ["name", "kind", "team", "failing_since", "last_error"]
    list_filter = ["kind", "team"]
    search_fields = ["name"]
    readonly_fields = ["secret_free_config", "failing_since", "last_error"]
    actions = [send_test]

    def get_fields(self, request, obj=None):
        # Read-only pages show the stored value: they get the masked copy instead.
        editable = obj is None or self.has_change_permission(request, obj)
        config = CHANNEL_FIELDS if editable else ["secret_free_config"]
        state = ["failing_since", "last_error"] if obj is not None else []
        return ["team", "kind", "name", *config, *state]

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
