from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from alerts.evaluators import registry
from alerts.models import Alert, AlertEvent, AlertRule, Incident, IncidentEvent, Silence
from alerts.models.rules import CONDITION_FIELDS, OUTCOME_FIELDS
from alerts.services import snooze
from alerts.services.muting import silence_problems
from catalog.models import Service
from core.api import TeamOwnedSerializer
from metrics import matchers as label_matchers


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    actor = serializers.CharField(source="actor_name")
    message = serializers.CharField()
    data = serializers.JSONField()


class AlertSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    incident = serializers.SlugRelatedField(slug_field="uid", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    display_status = serializers.CharField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "status",
            "display_status",
            "muted",
            "flapping",
            "severity",
            "summary",
            "source",
            "service",
            "incident",
            "labels",
            "value",
            "occurrences",
            "first_seen",
            "last_seen",
            "fired_at",
            "acknowledged_at",
            "resolved_at",
            "assignee",
        ]
        read_only_fields = fields


class AlertDetailSerializer(AlertSerializer):
    timeline = serializers.SerializerMethodField()
    silence = serializers.SlugRelatedField(slug_field="uid", read_only=True, allow_null=True)

    class Meta(AlertSerializer.Meta):
        fields = [
            *AlertSerializer.Meta.fields,
            "description",
            "runbook_url",
            "generator_url",
            "annotations",
            "dedup_key",
            "silence",
            "timeline",
        ]
        read_only_fields = fields

    def get_timeline(self, alert: Alert) -> list[dict]:
        return EventSerializer(AlertEvent.objects.filter(alert=alert), many=True).data


class SnoozeSerializer(serializers.Serializer):
    duration = serializers.ChoiceField(choices=list(snooze.CHOICES), help_text="30m, 1h, 4h, 24h or until_clear")


class IncidentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    priority = serializers.IntegerField(source="effective_priority", read_only=True)
    alert_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "status",
            "priority",
            "priority_override",
            "service",
            "assignee",
            "group_key",
            "opened_at",
            "acknowledged_at",
            "resolved_at",
            "time_to_acknowledge",
            "time_to_resolve",
            "alert_count",
        ]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    alerts = AlertSerializer(many=True, read_only=True)
    timeline = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [
            *IncidentSerializer.Meta.fields,
            "resolution_note",
            "postmortem_summary",
            "root_cause",
            "follow_ups",
            "alerts",
            "timeline",
        ]
        read_only_fields = fields

    def get_timeline(self, incident: Incident) -> list[dict]:
        return EventSerializer(IncidentEvent.objects.filter(incident=incident), many=True).data


class TeamMemberField(serializers.SlugRelatedField):
    """A user name that must belong to a member of the object's team (`team` in the context);
    without a team nobody qualifies."""

    default_error_messages = {"does_not_exist": "{value!r} is not a member of this team"}

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", queryset=get_user_model().objects.none(), **kwargs)

    def get_queryset(self):
        team = self.context.get("team")
        if team is None:
            return get_user_model().objects.none()
        return get_user_model().objects.filter(memberships__team=team)


class IncidentUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=1024, required=False)
    priority_override = serializers.IntegerField(min_value=1, max_value=5, allow_null=True, required=False)
    assignee = TeamMemberField(allow_null=True, required=False)
    resolution_note = serializers.CharField(allow_blank=True, required=False)
    postmortem_summary = serializers.CharField(allow_blank=True, required=False)
    root_cause = serializers.CharField(allow_blank=True, required=False)
    follow_ups = serializers.CharField(allow_blank=True, required=False)


class TextSerializer(serializers.Serializer):
    text = serializers.CharField()


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, required=False, default="")


class AssignSerializer(serializers.Serializer):
    assignee = TeamMemberField(allow_null=True)


class MatchersField(serializers.JSONField):
    """[{"name": "service", "op": "=", "value": "checkout"}, ...] with ops =, !=, =~, !~."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if isinstance(data, list):
            data = [{"op": "=", **m} if isinstance(m, dict) else m for m in data]
        try:
            return label_matchers.validate(data)
        except label_matchers.MatcherError as exc:
            raise serializers.ValidationError(str(exc)) from None


CONFIRM_HELP = 'required (true) when the matchers match every alert of the team (none, or only ones like =~".*")'


class AlertSilenceSerializer(serializers.Serializer):
    duration_minutes = serializers.IntegerField(min_value=1, max_value=60 * 24 * 30)
    comment = serializers.CharField()
    expire_on_resolve = serializers.BooleanField(default=False)
    matchers = MatchersField(required=False, help_text="default: all labels of the alert")
    confirm_team_wide = serializers.BooleanField(default=False, help_text=CONFIRM_HELP)


class BulkSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["acknowledge", "resolve", "silence"])
    ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=1000)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=60 * 24 * 30, required=False)
    comment = serializers.CharField(required=False)


class MergeSerializer(serializers.Serializer):
    incidents = serializers.ListField(child=serializers.UUIDField(), min_length=1)


class SplitSerializer(serializers.Serializer):
    alerts = serializers.ListField(child=serializers.UUIDField(), min_length=1)


class ServiceSerializer(TeamOwnedSerializer):
    """One slug per team: a clash is a 400 rather than an IntegrityError (500) on save."""

    unique_in_team = ("slug",)
    id = serializers.UUIDField(source="uid", read_only=True)

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "criticality",
            "revenue_per_minute",
            "ack_timeout",
            "auto_resolve_timeout",
        ]


class AlertRuleSerializer(TeamOwnedSerializer):
    team_choices = ("service",)
    id = serializers.UUIDField(source="uid", read_only=True)
    service = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.none(), allow_null=True, required=False
    )
    kind = serializers.ChoiceField(choices=[])
    matchers = MatchersField(required=False)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "kind",
            "enabled",
            "service",
            *CONDITION_FIELDS,
            "params",
            *OUTCOME_FIELDS,
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = registry.choices()


class SilenceSerializer(TeamOwnedSerializer):
    """A silence ends at most HIVEOPS_SILENCE_MAX_DAYS after it starts; team-wide matchers need
    `confirm_team_wide: true`."""

    id = serializers.UUIDField(source="uid", read_only=True)
    matchers = MatchersField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    active = serializers.SerializerMethodField()
    confirm_team_wide = serializers.BooleanField(default=False, write_only=True, help_text=CONFIRM_HELP)

    class Meta:
        model = Silence
        fields = [
            "id",
            "matchers",
            "starts_at",
            "ends_at",
            "comment",
            "expire_on_resolve",
            "created_by",
            "expired_at",
            "active",
            "confirm_team_wide",
        ]
        read_only_fields = ["expired_at"]

    def validate(self, attrs):
        problems = silence_problems(
            matchers=attrs.get("matchers"),
            starts_at=attrs.get("starts_at"),
            ends_at=attrs.get("ends_at"),
            confirm_team_wide=attrs.get("confirm_team_wide", False),
        )
        try:
            attrs = super().validate(attrs)
        except serializers.ValidationError as exc:
            problems = {**exc.detail, **problems}
        if problems:
            raise serializers.ValidationError(problems)
        return attrs

    def get_active(self, silence: Silence) -> bool:
        from django.utils import timezone

        return silence.is_active(timezone.now())


class BacktestQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=30, default=7)
