"""The audit log over the API: team admins (and tokens with the admin scope) read and export it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.audit.exports import csv_response
from core.audit.models import AuditEvent
from core.teams.auth import request_team_ids, scope_required
from core.timeparse import unix_seconds

MAX_ROWS = 1000


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "team_id",
            "actor_name",
            "actor_id",
            "source_ip",
            "via",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
        ]


class AuditListView(APIView):
    permission_classes = [scope_required("admin")]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="unix seconds or RFC 3339 (default: 7 days ago)"),
            OpenApiParameter("until", str, description="default now"),
            OpenApiParameter("action", str, description="e.g. update, alert.acknowledged"),
            OpenApiParameter("object_type", str, description="e.g. alerts.alertrule"),
            OpenApiParameter("export", str, enum=["csv"], description="csv: every matching row as a CSV download"),
        ],
        responses={200: AuditEventSerializer(many=True), (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request):
        params = request.query_params
        until = unix_seconds(params.get("until"), "until", default=time.time() + 1)
        since = unix_seconds(params.get("since"), "since", default=until - 7 * 86400)
        if since > until:
            raise ValidationError({"since": "must be before until"})
        team_ids = request_team_ids(request, "admin")
        if not team_ids:
            raise PermissionDenied("the audit log is for team admins")
        qs = AuditEvent.objects.filter(
            team_id__in=team_ids,
            at__gte=datetime.fromtimestamp(since, UTC),
            at__lte=datetime.fromtimestamp(until, UTC),
        )
        if params.get("action"):
            qs = qs.filter(action=params["action"])
        if params.get("object_type"):
            qs = qs.filter(object_type=params["object_type"])
        if params.get("export") == "csv":
            return csv_response(qs.order_by("at", "id"), "audit.csv")
        if params.get("export"):
            raise ValidationError({"export": "only csv"})
        return Response(AuditEventSerializer(qs[:MAX_ROWS], many=True).data)
