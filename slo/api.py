"""SLO and SLA API: CRUD (team-scoped, 400s naming the bad field), status, chart history and
the monthly SLA report as JSON."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts.api.serializers import MatchersField
from alerts.api.views import TeamOwnedViewSet
from catalog.models import Service
from core.api import TeamOwnedSerializer
from core.timeparse import month as parse_month
from slo import reports
from slo.calculations import Status
from slo.models import DEFINITION_FIELDS, SLA, SLO
from slo.selectors import slo_history, statuses
from slo.services import slo_save
from slo.views import budget_order


def status_data(status: Status) -> dict:
    return {
        "as_of": status.as_of,
        "window_start": status.window_start,
        "window_end": status.window_end,
        "sli": status.sli,
        "attainment": status.attainment,
        "budget": {
            "total_units": status.budget_units,
            "consumed_units": status.consumed_units,
            "remaining_units": status.remaining_units,
            "remaining_ratio": status.budget_remaining,
            "total_s": status.budget_s,
            "consumed_s": status.consumed_s,
            "remaining_s": status.remaining_s,
        },
        "burn_rates": status.burn_rates,
        "events": status.events,
        "gap_minutes": status.gap_minutes,
        "exhausted": status.exhausted,
        "exhaustion_at": status.exhaustion_at,
    }


class SLOSerializer(TeamOwnedSerializer):
    team_choices = ("service",)
    unique_in_team = ("name",)
    noun = "an SLO"
    id = serializers.UUIDField(source="uid", read_only=True)
    service = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.none(), allow_null=True, required=False
    )
    good_matchers = MatchersField(required=False)
    bad_matchers = MatchersField(required=False)
    total_matchers = MatchersField(required=False)
    matchers = MatchersField(required=False)
    page_tier = serializers.CharField(read_only=True)
    ticket_tier = serializers.CharField(read_only=True)

    class Meta:
        model = SLO
        fields = [
            "id",
            "name",
            "description",
            "enabled",
            "service",
            *DEFINITION_FIELDS,
            "objective",
            "window",
            "timezone",
            "gap_policy",
            "min_events",
            "alerting",
            "page_fast_enabled",
            "page_fast_severity",
            "page_slow_enabled",
            "page_slow_severity",
            "ticket_fast_enabled",
            "ticket_fast_severity",
            "ticket_slow_enabled",
            "ticket_slow_severity",
            "runbook_url",
            "page_tier",
            "ticket_tier",
        ]


class SLASerializer(TeamOwnedSerializer):
    team_choices = ("slo",)
    unique_in_team = ("name",)
    noun = "an SLA"
    id = serializers.UUIDField(source="uid", read_only=True)
    slo = serializers.SlugRelatedField(slug_field="uid", queryset=SLO.objects.none())
    stakeholders = serializers.ListField(child=serializers.EmailField(), required=False)

    class Meta:
        model = SLA
        fields = [
            "id",
            "name",
            "slo",
            "customer",
            "target",
            "monthly_fee",
            "currency",
            "credit_tiers",
            "timezone",
            "stakeholders",
            "last_report_month",
        ]
        read_only_fields = ["last_report_month"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["stakeholders"] = instance.stakeholder_list()
        return data

    def validate_stakeholders(self, value):
        return ", ".join(value)


class SLOViewSet(TeamOwnedViewSet):
    """SLOs of your teams. The list is sorted by remaining error budget, least first."""

    model = SLO
    serializer_class = SLOSerializer

    def get_queryset(self):
        return super().get_queryset().select_related("service")

    def list(self, request, *args, **kwargs):
        slos = list(self.get_queryset())
        by_id = statuses(slos)
        slos.sort(key=lambda s: budget_order(by_id[s.id]))
        page = self.paginate_queryset(slos)
        shown = page if page is not None else slos
        data = [{**self.get_serializer(s).data, "status": status_data(by_id[s.id])} for s in shown]
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        slo = self.get_object()
        return Response({**self.get_serializer(slo).data, "status": status_data(statuses([slo])[slo.id])})

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        slo = SLO.objects.get(uid=response.data["id"])
        response.data["status"] = status_data(statuses([slo])[slo.id])
        return response

    def perform_create(self, serializer):
        serializer.instance = slo_save(slo=SLO(team=serializer.context["team"], **serializer.validated_data))

    def perform_update(self, serializer):
        slo = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(slo, name, value)
        slo_save(slo=slo)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def history(self, request, id=None):
        """Hourly SLI and remaining budget over the current window (chart data)."""
        slo = self.get_object()
        return Response(slo_history(slo, statuses([slo])[slo.id]))


class SLAViewSet(TeamOwnedViewSet):
    model = SLA
    serializer_class = SLASerializer

    def get_queryset(self):
        return super().get_queryset().select_related("slo", "slo__service")

    @extend_schema(parameters=[OpenApiParameter("month", str, description="YYYY-MM")], responses={200: dict})
    @action(detail=False, methods=["get"])
    def report(self, request):
        """The monthly compliance report of your SLAs."""
        year, month = parse_month(request.query_params.get("month"))
        rows = reports.sla_report(slas=self.get_queryset(), year=year, month=month)
        return Response(
            {
                "month": f"{year:04d}-{month:02d}",
                "slas": [
                    {
                        "id": str(r.sla.uid),
                        "sla": r.sla.name,
                        "customer": r.sla.customer,
                        "slo": str(r.sla.slo.uid),
                        "target": r.sla.target,
                        "achieved": r.achieved_percent,
                        "met": not r.figures.breached,
                        "breaches": r.figures.breaches,
                        "downtime_minutes": r.figures.downtime_minutes,
                        "credit_percent": r.figures.credit_percent,
                        "credit": str(r.figures.credit),
                        "currency": r.sla.currency,
                        "start": r.start,
                        "end": r.end,
                    }
                    for r in rows
                ],
            }
        )
