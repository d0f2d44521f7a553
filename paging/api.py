"""Escalation policies, routes, rotations (who is on call) and the delivery log over the API."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.api.serializers import MatchersField
from alerts.api.views import ScopedMixin, TeamOwnedViewSet
from alerts.selectors import incidents_for_teams
from catalog.models import Service
from core.api import TeamOwnedSerializer
from core.teams.auth import request_team_ids, scope_required
from core.teams.models import Team
from core.timeparse import instant
from paging.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationRoute,
    Notification,
    NotificationChannel,
    OnCallRotation,
)
from paging.selectors import coverage_gaps, on_call_at, paging_status, paging_timeline, schedule

User = get_user_model()


class LevelSerializer(TeamOwnedSerializer):
    """A level of a policy: users, teams, channels and rotations of the policy's own team only
    (none without a team)."""

    team_choices = ("channels", "rotation")
    users = serializers.SlugRelatedField(slug_field="username", many=True, queryset=User.objects.all(), required=False)
    teams = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Team.objects.all(), required=False)
    channels = serializers.SlugRelatedField(
        slug_field="uid", many=True, queryset=NotificationChannel.objects.none(), required=False
    )
    rotation = serializers.PrimaryKeyRelatedField(
        queryset=OnCallRotation.objects.none(), allow_null=True, required=False
    )

    class Meta:
        model = EscalationLevel
        fields = [
            "position",
            "wait",
            "strategy",
            "users",
            "teams",
            "rotation",
            "channels",
            "only_days",
            "only_from",
            "only_until",
            "timezone",
            "min_alerts",
            "min_alerts_window",
        ]

    def get_fields(self):
        fields = super().get_fields()
        team_id = getattr(self.context.get("team"), "pk", 0)  # 0: no team, nothing qualifies
        fields["users"].child_relation.queryset = User.objects.filter(memberships__team_id=team_id)
        fields["teams"].child_relation.queryset = Team.objects.filter(pk=team_id)
        return fields

    def validate(self, attrs):
        many = {k: attrs.pop(k) for k in ("users", "teams", "channels") if k in attrs}
        attrs = super().validate(attrs)
        return {**attrs, **many}


class PolicySerializer(TeamOwnedSerializer):
    levels = LevelSerializer(many=True)

    class Meta:
        model = EscalationPolicy
        fields = ["id", "name", "repeat", "repeat_from_level", "levels"]

    def validate_levels(self, levels):
        if not levels:
            raise ValidationError("a policy needs at least one level")
        return levels

    def validate(self, attrs):
        levels = attrs.pop("levels", None)
        attrs = super().validate(attrs)
        if levels is not None:
            attrs["levels"] = levels
        return attrs

    @transaction.atomic
    def create(self, validated_data):
        levels = validated_data.pop("levels")
        policy = EscalationPolicy.objects.create(**validated_data)
        self._write_levels(policy, levels)
        return policy

    @transaction.atomic
    def update(self, instance, validated_data):
        levels = validated_data.pop("levels", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        if levels is not None:
            instance.levels.all().delete()  # running escalations use their snapshot, not these rows
            self._write_levels(instance, levels)
        return instance

    def _write_levels(self, policy, levels) -> None:
        for data in levels:
            many = {k: data.pop(k, []) for k in ("users", "teams", "channels")}
            level = EscalationLevel.objects.create(policy=policy, **data)
            for name, values in many.items():
                getattr(level, name).set(values)


class RouteSerializer(TeamOwnedSerializer):
    team_choices = ("policy", "service")
    matchers = MatchersField(required=False)
    policy = serializers.PrimaryKeyRelatedField(queryset=EscalationPolicy.objects.none())
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.none(), allow_null=True, required=False)

    class Meta:
        model = EscalationRoute
        fields = ["id", "position", "policy", "service", "severities", "matchers", "is_default"]


class RotationSerializer(TeamOwnedSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = OnCallRotation
        fields = [
            "id",
            "name",
            "length",
            "custom_hours",
            "handoff_time",
            "timezone",
            "start_date",
            "notify_handoff",
            "members",
        ]

    def get_members(self, rotation) -> list[str]:
        return [m.user.get_username() for m in rotation.members.select_related("user")]


class NotificationSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="uid", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "incident",
            "kind",
            "target",
            "level",
            "status",
            "attempts",
            "error",
            "duration_ms",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class PolicyViewSet(TeamOwnedViewSet):
    model = EscalationPolicy
    serializer_class = PolicySerializer
    lookup_field = "pk"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("levels__users", "levels__teams", "levels__channels")


class RouteViewSet(TeamOwnedViewSet):
    model = EscalationRoute
    serializer_class = RouteSerializer
    lookup_field = "pk"


def _shift_dict(shift) -> dict | None:
    if shift is None:
        return None
    user = User.objects.filter(pk=shift.user_id).first()
    return {
        "user": user.get_username() if user else None,
        "start": shift.start,
        "end": shift.end,
        "override": shift.override,
    }


def _at(request) -> datetime:
    return instant(request.query_params.get("at"), "at", default=timezone.now())


class RotationViewSet(ScopedMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = RotationSerializer
    lookup_field = "pk"
    lookup_url_kwarg = "pk"

    def get_queryset(self):
        return OnCallRotation.objects.filter(team_id__in=self.team_ids())

    @extend_schema(parameters=[OpenApiParameter("at", str, description="RFC 3339; default now")], responses=dict)
    @action(detail=True, methods=["get"], url_path="on-call")
    def on_call(self, request, pk=None):
        """Who is on call now or at time `at`, plus the next two weeks with coverage gaps."""
        rotation = self.get_object()
        at = _at(request)
        shifts = schedule(rotation=rotation, start=at)
        return Response(
            {
                "rotation": rotation.name,
                "at": at,
                "on_call": _shift_dict(on_call_at(rotation=rotation, at=at)),
                "schedule": [
                    _shift_dict(s) if not isinstance(s, tuple) else {"gap": True, "start": s[0], "end": s[1]}
                    for s in shifts
                ],
                "gaps": [{"start": a, "end": b} for a, b in coverage_gaps(rotation=rotation, start=at)],
            }
        )


class NotificationViewSet(ScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The delivery log."""

    serializer_class = NotificationSerializer
    lookup_field = "pk"
    lookup_url_kwarg = "pk"

    def get_queryset(self):
        qs = Notification.objects.filter(incident__team_id__in=self.team_ids()).select_related("incident")
        if self.request.query_params.get("incident"):
            qs = qs.filter(incident__uid=self.request.query_params["incident"])
        if self.request.query_params.get("status"):
            qs = qs.filter(status=self.request.query_params["status"])
        return qs


class PagingStatusSerializer(serializers.Serializer):
    state = serializers.CharField()
    reason = serializers.CharField()


class PagingEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=["delivery", "escalation"])
    level = serializers.IntegerField(allow_null=True)
    who = serializers.CharField()
    channel = serializers.CharField()
    outcome = serializers.CharField(help_text="a delivery's status, or the escalation's step")
    sent_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField()


class IncidentPagingSerializer(serializers.Serializer):
    status = PagingStatusSerializer()
    timeline = PagingEntrySerializer(many=True)


class IncidentPagingView(APIView):
    """Where paging stands for an incident (and why, when nobody is being paged), and its timeline:
    who was notified, when, by which channel, the outcome, and each escalation step."""

    permission_classes = [scope_required("read")]

    @extend_schema(responses=IncidentPagingSerializer)
    def get(self, request, id):
        incident = incidents_for_teams(team_ids=request_team_ids(request, "read")).filter(uid=id).first()
        if incident is None:
            raise NotFound("no such incident in your teams")
        status = paging_status(incident=incident)
        body = {
            "status": {"state": status.state, "reason": status.reason},
            "timeline": paging_timeline(incident=incident),
        }
        return Response(IncidentPagingSerializer(body).data)
