"""HTTP API of the insight app. Thin: authenticate, scope to the caller's teams, validate (400s
name the field), call one selector or service."""

from __future__ import annotations

from datetime import timedelta as td

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.api.intake import PagerDutyIntakeView, invalid_event, pagerduty_start
from alerts.selectors import incidents_for_teams
from alerts.services.intake import PayloadError
from catalog.selectors import service_by_slug
from core.teams.auth import request_team_ids, scope_required, write_team
from core.timeparse import instant, integer
from insight import selectors
from insight.models import ChangeEvent
from insight.services import ChangeInput, change_event_record, links_validate, pagerduty_change_enqueue
from metrics.selectors import series_for_teams

MAX_SPAN = td(hours=48)
MIN_BASELINE = td(minutes=60)
MAX_CORRELATION_SPAN = td(days=7)
MAX_ROWS = 1000
MAX_COLUMNS = 100
MAX_PAIRS = 20_000
METHODS = ("diff", "level", "rank")


def body_dict(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"body": "a JSON object"})
    return request.data


def analysis_error(exc: selectors.AnalysisError) -> ValidationError:
    return ValidationError({exc.field: exc.message})


@extend_schema(tags=["insight"], responses={200: dict, 404: dict})
class IncidentRelatedView(APIView):
    """What else moved around the incident (ranked series with values), what moved first,
    recent change events and similar past incidents."""

    permission_classes = [scope_required("read")]

    def get(self, request, uid):
        team_ids = request_team_ids(request, "read")
        incident = incidents_for_teams(team_ids=team_ids).filter(uid=uid).first()
        if incident is None:
            raise NotFound("no such incident in your teams")
        limit = integer(request.query_params.get("limit"), "limit", default=8, low=1, high=50)
        return Response(selectors.related_for_incident(incident=incident, limit=limit))


@extend_schema(tags=["insight"], request=dict, responses={200: dict, 400: dict})
class RootCauseView(APIView):
    """Rank series by change against a baseline and by lagged correlation with a target series.
    Body: {"at": when the problem started, "start", "end", "series": target id, "service": slug,
    "candidates": [ids or {metric, labels}], "max_lag": minutes, "limit"}."""

    permission_classes = [scope_required("read")]

    def post(self, request):
        body = body_dict(request)
        team_ids = request_team_ids(request, "read")
        max_lag = integer(body.get("max_lag"), "max_lag", default=30, low=1, high=120)
        limit = integer(body.get("limit"), "limit", default=10, low=1, high=100)
        at = instant(body.get("at"), "at")
        start = instant(body.get("start"), "start", default=at - td(minutes=max_lag) - selectors.BASELINE)
        end = instant(body.get("end"), "end", default=min(timezone.now(), at + selectors.AFTER))
        if end <= at:
            raise ValidationError({"end": "must be after at"})
        if end - start > MAX_SPAN:
            raise ValidationError({"end": f"the window may span at most {MAX_SPAN.total_seconds() / 3600:.0f} hours"})
        if at - td(minutes=max_lag) - start < MIN_BASELINE:
            raise ValidationError({"start": "leave at least 60 minutes of baseline before at − max_lag"})
        target = None
        if body.get("series") not in (None, ""):
            target = self._target(team_ids, body["series"])
        try:
            candidates = self._candidates(team_ids, body, target)
        except selectors.AnalysisError as exc:
            raise analysis_error(exc) from None
        result = selectors.rootcause(
            candidates=candidates, start=start, end=end, at=at, target=target, max_lag_min=max_lag, limit=limit
        )
        return Response(result.as_dict())

    def _target(self, team_ids, raw):
        try:
            found = selectors.series_resolve(team_ids=team_ids, items=[raw], field_name="series", limit=1)
        except selectors.AnalysisError:
            raise ValidationError({"series": "no such series in your teams"}) from None
        return found[0]

    def _candidates(self, team_ids, body, target):
        if body.get("candidates") is not None:
            return selectors.series_resolve(
                team_ids=team_ids, items=body["candidates"], field_name="candidates", limit=selectors.MAX_CANDIDATES
            )
        qs = series_for_teams(team_ids=[target.team_id] if target else team_ids)
        service = body.get("service")
        if service not in (None, ""):
            if not isinstance(service, str):
                raise selectors.AnalysisError("service", "a service slug")
            qs = qs.filter(labels__service=service)
            if not qs.exists():
                raise selectors.AnalysisError("service", f"no series of your teams has the label service={service}")
        return list(qs.order_by("id")[: selectors.MAX_CANDIDATES])


@extend_schema(tags=["insight"], request=dict, responses={200: dict, 400: dict})
class CorrelationsView(APIView):
    """Correlation matrix with lag between `rows` and `columns` (series ids or {metric, labels}
    selectors), e.g. technical metrics against business metrics. Body: {"rows", "columns",
    "start", "end", "max_lag": minutes, "method": diff|level|rank}."""

    permission_classes = [scope_required("read")]

    def post(self, request):
        body = body_dict(request)
        team_ids = request_team_ids(request, "read")
        end = instant(body.get("end"), "end", default=timezone.now())
        start = instant(body.get("start"), "start", default=end - td(hours=24))
        if end <= start:
            raise ValidationError({"end": "must be after start"})
        if end - start > MAX_CORRELATION_SPAN:
            raise ValidationError({"end": "the window may span at most 7 days"})
        if end - start < td(minutes=30):
            raise ValidationError({"start": "the window must span at least 30 minutes"})
        max_lag = integer(body.get("max_lag"), "max_lag", default=30, low=0, high=720)
        method = body.get("method", "diff")
        if method not in METHODS:
            raise ValidationError({"method": f"one of {', '.join(METHODS)}"})
        try:
            rows = selectors.series_resolve(
                team_ids=team_ids, items=body.get("rows"), field_name="rows", limit=MAX_ROWS
            )
            cols = selectors.series_resolve(
                team_ids=team_ids, items=body.get("columns"), field_name="columns", limit=MAX_COLUMNS
            )
        except selectors.AnalysisError as exc:
            raise analysis_error(exc) from None
        if len(rows) * len(cols) > MAX_PAIRS:
            raise ValidationError({"rows": f"at most {MAX_PAIRS} row × column pairs"})
        return Response(
            selectors.correlations(rows=rows, cols=cols, start=start, end=end, max_lag_min=max_lag, method=method)
        )


class LinkSerializer(serializers.Serializer):
    href = serializers.URLField(max_length=2048)
    text = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ChangeSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=1024)
    timestamp = serializers.DateTimeField(required=False)
    service = serializers.CharField(max_length=120, required=False, allow_blank=True)
    source = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    labels = serializers.DictField(child=serializers.CharField(max_length=1024), required=False, default=dict)
    links = LinkSerializer(many=True, required=False, default=list)
    team = serializers.CharField(required=False)


@extend_schema(tags=["insight"])
class ChangeListView(APIView):
    """Change events (deploys, config changes): list with `read`, record with `write`."""

    def get_permissions(self):
        return [scope_required("read" if self.request.method in ("GET", "HEAD", "OPTIONS") else "write")()]

    @extend_schema(
        parameters=[
            OpenApiParameter("service", str, description="service slug"),
            OpenApiParameter("since", str, description="unix seconds or RFC 3339"),
            OpenApiParameter("until", str),
        ],
        responses={200: dict},
    )
    def get(self, request):
        qs = selectors.changes_for_teams(team_ids=request_team_ids(request, "read"))
        params = request.query_params
        if params.get("service"):
            qs = qs.filter(service__slug=params["service"])
        if params.get("since"):
            qs = qs.filter(at__gte=instant(params["since"], "since"))
        if params.get("until"):
            qs = qs.filter(at__lte=instant(params["until"], "until"))
        limit = integer(params.get("limit"), "limit", default=100, low=1, high=1000)
        return Response({"results": [selectors.change_dict(c) for c in qs.order_by("-at", "-id")[:limit]]})

    @extend_schema(request=ChangeSerializer, responses={201: dict, 400: dict})
    def post(self, request):
        team = write_team(request)
        body = ChangeSerializer(data=body_dict(request))
        body.is_valid(raise_exception=True)
        data = body.validated_data
        service = None
        if data.get("service"):
            service = service_by_slug(team_id=team.id, slug=data["service"])
            if service is None:
                raise ValidationError({"service": f"team {team.slug} has no service {data['service']!r}"})
        errors: list[str] = []
        links = links_validate([dict(link) for link in data["links"]], "links", errors)
        if errors:
            raise ValidationError({"links": errors})
        change = change_event_record(
            team_id=team.id,
            via=ChangeEvent.Via.API,
            change=ChangeInput(
                summary=data["summary"],
                at=data.get("timestamp") or timezone.now(),
                source=data["source"],
                service=service,
                labels=dict(data["labels"]),
                links=links,
            ),
        )
        return Response(selectors.change_dict(change), status=status.HTTP_201_CREATED)


@extend_schema(tags=["integrations"], request=dict, responses={202: dict, 400: dict, 429: dict})
class PagerDutyChangeView(PagerDutyIntakeView):
    """PagerDuty Change Events API: `routing_key` is a HiveOps PagerDuty integration key."""

    permission_classes = [AllowAny]

    def post(self, request):
        started = pagerduty_start(self, request)  # the same per-integration budget as alert events
        if isinstance(started, Response):
            return started
        body, integration = started
        try:
            pagerduty_change_enqueue(integration=integration, body=body)
        except PayloadError as exc:
            return invalid_event(exc.errors)
        return Response({"status": "success", "message": "Change event processed"}, status=status.HTTP_202_ACCEPTED)
