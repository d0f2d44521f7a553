"""Capacity API: resources (CRUD with their latest analysis, sorted by risk), a live analysis
for any horizon, chart data, scenarios side by side, saved scenarios, the fleet summary and
analysis runs with progress. Team-scoped; a 400 names the bad field."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from capacity import services
from capacity.models import MAX_HORIZON_DAYS, Analysis, AnalysisRun, Resource, Scenario, scenario_of
from capacity.schemas import AnalysisSchema, LiveAnalysisSchema
from capacity.selectors import fleet, fleet_summary, latest_run, resources_for_teams, scenarios_for_teams
from capacity.views import chart_data
from catalog.models import Service
from core.api import ModelCleanMixin, TeamOwnedSerializer
from core.teams.auth import TOKEN_SCOPE, request_team_ids, scope_required, write_team
from core.teams.models import ApiToken
from metrics.models import Series


def _needed(request, write: str = "configure") -> str:
    """Resources and scenarios are configuration (managers); starting a run is `write`."""
    return "read" if request.method in ("GET", "HEAD", "OPTIONS") else write


def analysis_data(a: Analysis | None) -> dict | None:
    """One schema for the resource's stored analysis and the live `…/analysis` answer: the days
    are counted from `counted_from` (= `computed_at`), `exhaust_at` is that instant plus them."""
    if a is None:
        return None
    details = a.details or {}
    return {
        "computed_at": a.computed_at,
        "counted_from": a.computed_at,
        "status": a.status,
        "message": a.message,
        "horizon_days": a.horizon_days,
        "exhausted": a.exhausted,
        "time_to_exhaustion_days": {q: a.days(q) for q in ("p10", "p50", "p90")},
        "exhaust_at": {q: a.exhaust_at(q) for q in ("p10", "p50", "p90")},
        "probability": a.probability,
        "eta": a.eta,
        "at_risk": a.at_risk,
        "model": a.model,
        "model_weights": details.get("weights", {}),
        "range_confidence": details.get("range", {"confidence": None, "reason": a.message}),
        "period_days": details.get("period_days"),
        "rate_change_at": details.get("rate_change_at"),
        "history_days": details.get("history_days"),
        "current_value": a.current_value,
        "utilization": a.utilization,
        "p95_utilization": a.p95_utilization,
        "forecast_peak_utilization": a.peak_utilization,
        "growth_per_day": a.growth_per_day,
        "recommendation": {
            "action": a.action,
            "new_allocation": a.new_allocation,
            "monthly_cost_change": str(a.monthly_cost_change),
            "confidence": a.confidence,
            "confidence_label": a.confidence_label,
            "reason": a.reason,
            "evidence": a.details.get("evidence", {}),
        },
        "changes": a.details.get("changes", []),
        "risk": a.risk,
    }


class ResourceSerializer(TeamOwnedSerializer):
    team_choices = ("series", "service")
    unique_in_team = ("name",)
    id = serializers.UUIDField(source="uid", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    series = serializers.SlugRelatedField(slug_field="uid", queryset=Series.objects.none(), allow_null=False)
    service = serializers.SlugRelatedField(
        slug_field="slug", queryset=Service.objects.none(), allow_null=True, required=False
    )
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    analysis = serializers.SerializerMethodField()

    class Meta:
        model = Resource
        fields = [
            "id",
            "team",
            "name",
            "kind",
            "scope",
            "scope_name",
            "service",
            "series",
            "limit_mode",
            "limit",
            "allocation",
            "allocation_unit",
            "allocation_step",
            "min_allocation",
            "unit_cost",
            "currency",
            "target_utilization",
            "scale_down_floor",
            "horizon_days",
            "window_days",
            "owner",
            "enabled",
            "analysis",
        ]

    @extend_schema_field(AnalysisSchema(allow_null=True))
    def get_analysis(self, instance) -> dict | None:
        return analysis_data(getattr(instance, "analysis", None))


class ScenarioSerializer(TeamOwnedSerializer):
    unique_in_team = ("name",)
    id = serializers.UUIDField(source="uid", read_only=True)

    class Meta:
        model = Scenario
        fields = [
            "id",
            "name",
            "description",
            "growth_pct_per_month",
            "event_date",
            "event_days",
            "event_multiplier",
            "added_allocation",
        ]


class AdHocScenarioSerializer(ModelCleanMixin, serializers.ModelSerializer):
    class Meta:
        model = Scenario
        fields = ["name", "growth_pct_per_month", "event_date", "event_days", "event_multiplier", "added_allocation"]
        extra_kwargs = {"name": {"required": False, "validators": []}}


class HorizonSerializer(serializers.Serializer):
    horizon = serializers.IntegerField(min_value=1, max_value=MAX_HORIZON_DAYS, required=False)


class TeamScoped:
    """Read with the `read` scope, write with `write`; every queryset limited to the caller's teams."""

    lookup_field = "uid"
    lookup_url_kwarg = "id"
    write_scope = "configure"

    def get_permissions(self):
        needed = _needed(self.request, self.write_scope)
        return [scope_required(TOKEN_SCOPE.get(needed, needed))()]

    def team_ids(self) -> list[int]:
        return request_team_ids(self.request, _needed(self.request, self.write_scope))

    def get_object(self):
        try:
            return super().get_object()
        except (ValueError, ValidationError, DjangoValidationError):
            raise NotFound() from None

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.method == "POST" and not self.kwargs.get("id"):
            context["team"] = write_team(self.request, _needed(self.request, self.write_scope))
        elif self.kwargs.get("id"):
            context["team"] = self.get_object().team
        return context

    def perform_create(self, serializer):
        serializer.save(team=serializer.context["team"])


class ResourceViewSet(TeamScoped, viewsets.ModelViewSet):
    """Resources of your teams; the list is sorted by risk, most urgent first."""

    serializer_class = ResourceSerializer

    def get_queryset(self):
        return resources_for_teams(team_ids=self.team_ids())

    def list(self, request, *args, **kwargs):
        resources = fleet(team_ids=self.team_ids())
        if request.query_params.get("at_risk") in ("1", "true"):
            resources = [r for r in resources if getattr(r, "analysis", None) is not None and r.analysis.at_risk]
        kind = request.query_params.get("kind")
        if kind:
            if kind not in Resource.Kind.values:
                raise ValidationError({"kind": f"must be one of {', '.join(Resource.Kind.values)}"})
            resources = [r for r in resources if r.kind == kind]
        page = self.paginate_queryset(resources)
        data = self.get_serializer(page if page is not None else resources, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def perform_update(self, serializer):
        serializer.save()
        services.analyses_refresh(resources=[serializer.instance])  # the answer shows the new settings at work
        serializer.instance = resources_for_teams(team_ids=[serializer.instance.team_id]).get(pk=serializer.instance.pk)

    def perform_create(self, serializer):
        super().perform_create(serializer)
        services.analyses_refresh(resources=[serializer.instance])
        serializer.instance = resources_for_teams(team_ids=[serializer.instance.team_id]).get(pk=serializer.instance.pk)

    @extend_schema(
        parameters=[OpenApiParameter("horizon", int, description="days, 1–365")], responses={200: LiveAnalysisSchema}
    )
    @action(detail=True, methods=["get"])
    def analysis(self, request, id=None):
        """A fresh analysis with any horizon (the stored one uses the resource's horizon)."""
        query = HorizonSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        resource = self.get_object()
        horizon = query.validated_data.get("horizon")
        if horizon is not None:
            resource.horizon_days = horizon  # not saved: this answer only
        fresh = services.analysis_fresh(resource=resource)
        return Response(
            {
                "resource": str(resource.uid),
                "horizon_days": horizon or resource.horizon_days,
                "status": fresh.status,
                "message": fresh.message,
                "analysis": analysis_data(fresh),
            }
        )

    @extend_schema(parameters=[OpenApiParameter("days", int, description="history, 1–365")], responses={200: dict})
    @action(detail=True, methods=["get"])
    def chart(self, request, id=None):
        """History, forecast band, limit and target lines (what the resource page draws)."""
        days = request.query_params.get("days", "30")
        if not days.isdigit() or not 1 <= int(days) <= MAX_HORIZON_DAYS:
            raise ValidationError({"days": f"must be a whole number from 1 to {MAX_HORIZON_DAYS}"})
        return Response(chart_data(self.get_object(), days=int(days), now=timezone.now()))

    @extend_schema(request=AdHocScenarioSerializer(many=True), responses={200: dict})
    @action(detail=True, methods=["get", "post"])
    def scenarios(self, request, id=None):
        """GET: the baseline and your team's saved scenarios side by side. POST a list of ad-hoc
        scenarios (`name`, `growth_pct_per_month`, `event_date`, `event_days`, `event_multiplier`,
        `added_allocation`) to compare them instead."""
        resource = self.get_object()
        if request.method == "GET":
            chosen = [s.as_calc() for s in Scenario.objects.filter(team=resource.team)]
        else:
            items = request.data.get("scenarios") if isinstance(request.data, dict) else request.data
            if not isinstance(items, list) or not 1 <= len(items) <= 10:
                raise ValidationError({"scenarios": "send a list of 1 to 10 scenarios"})
            chosen = []
            for i, item in enumerate(items):
                body = AdHocScenarioSerializer(data=item)
                if not body.is_valid():
                    raise ValidationError({f"scenarios[{i}]": body.errors})
                data = body.validated_data
                chosen.append(scenario_of(**{"name": data.get("name") or f"scenario {i + 1}", **data}))
        return Response(
            {"resource": str(resource.uid), **services.scenarios_compare(resource=resource, scenarios=chosen)}
        )


class ScenarioViewSet(TeamScoped, viewsets.ModelViewSet):
    serializer_class = ScenarioSerializer

    def get_queryset(self):
        return scenarios_for_teams(team_ids=self.team_ids())


class SummaryView(APIView):
    """Fleet totals: monthly savings available, cost of needed scale-ups, resources at risk."""

    permission_classes = [scope_required("read")]

    @extend_schema(responses={200: dict})
    def get(self, request):
        team_ids = request_team_ids(request, "read")
        summary = fleet_summary(fleet(team_ids=team_ids))
        run = latest_run(team_ids=team_ids)
        return Response(
            {
                "resources": summary.resources,
                "analysed": summary.analysed,
                "at_risk": summary.at_risk,
                "exhausted": summary.exhausted,
                "scale_up": summary.scale_up,
                "scale_down": summary.scale_down,
                "monthly_savings_available": {k: str(v) for k, v in summary.savings.items()},
                "monthly_scale_up_cost": {k: str(v) for k, v in summary.extra_cost.items()},
                "oldest_analysis": summary.oldest_analysis,
                "latest_run": run_data(run) if run else None,
            }
        )


def run_data(run: AnalysisRun) -> dict:
    return {
        "id": str(run.uid),
        "status": run.status,
        "total": run.total,
        "done": run.done,
        "failed": run.failed,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_s": run.duration_s,
    }


class RunViewSet(TeamScoped, mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """POST starts an analysis of your team's resources; GET <id> reports its progress."""

    serializer_class = serializers.Serializer
    write_scope = "write"  # anyone who may act may ask for a fresh analysis

    def get_queryset(self):
        return AnalysisRun.objects.filter(team_id__in=self.team_ids())

    @extend_schema(request=None, responses={202: dict})
    def create(self, request, *args, **kwargs):
        team = write_team(request)
        user = None if isinstance(request.auth, ApiToken) else request.user
        return Response(run_data(services.run_create(team=team, user=user)), status=202)

    @extend_schema(responses={200: dict})
    def retrieve(self, request, *args, **kwargs):
        return Response(run_data(self.get_object()))
