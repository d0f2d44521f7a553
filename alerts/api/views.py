"""Alerts, incidents, rules, silences and services. Thin: scope, validate, call one service."""

from __future__ import annotations

from datetime import timedelta as td

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from alerts.api import serializers as s
from alerts.api.list_rows import LIST_VALUES, alert_rows
from alerts.models import Alert, AlertRule, Incident, Silence
from alerts.models.alerts import OPEN_STATUSES
from alerts.services import alerts as alert_services
from alerts.services import incidents as incident_services
from alerts.services import muting, snooze
from alerts.services.rules import rule_backtest
from catalog.models import Service
from core.pagination import KeysetPagination
from core.teams.auth import TOKEN_SCOPE, request_team_ids, role_denied, scope_required, write_team
from core.teams.models import ApiToken
from forecasting.services.feedback import feedback_record


def actor(request: Request):
    """The user acting, or None for a token (its name goes in the timeline instead)."""
    return None if isinstance(request.auth, ApiToken) else request.user


def channel(request: Request) -> str:
    """How a person acted, for the timeline: the web pages use the session, tools a token."""
    return "API token" if isinstance(request.auth, ApiToken) else "web"


def actor_name(request: Request) -> str | None:
    return f"token {request.auth.name}" if isinstance(request.auth, ApiToken) else None


def validated(serializer_class, data, **kwargs) -> dict:
    """The validated data of a request body, or a 400 naming the bad fields."""
    body = serializer_class(data=data, **kwargs)
    body.is_valid(raise_exception=True)
    return body.validated_data


class ScopedMixin:
    """Read with the `read` scope, change with `write_scope` (responders act on alerts and
    incidents; configuration needs a manager); every queryset limited to the caller's teams."""

    lookup_field = "uid"
    lookup_url_kwarg = "id"
    write_scope = "write"

    def needed(self) -> str:
        return "read" if self.request.method in ("GET", "HEAD", "OPTIONS") else self.write_scope

    def get_permissions(self):
        return [scope_required(TOKEN_SCOPE.get(self.needed(), self.needed()))()]

    def team_ids(self) -> list[int]:
        return request_team_ids(self.request, self.needed())

    def get_object(self):
        try:
            return super().get_object()
        except (ValueError, ValidationError):
            raise NotFound() from None
        except Http404:
            self._deny_if_only_role_is_missing()
            raise

    def _deny_if_only_role_is_missing(self) -> None:
        """A member who may see the object but not change it gets a 403 that says why."""
        if self.needed() == "read" or isinstance(self.request.auth, ApiToken):
            return
        model = self.get_queryset().model
        visible = model.objects.filter(team_id__in=request_team_ids(self.request, "read"))
        lookup = {self.lookup_field: self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)}
        try:
            team_id = visible.filter(**lookup).values_list("team_id", flat=True).first()
        except (ValueError, ValidationError, DjangoValidationError):
            return
        if team_id is not None:
            raise role_denied(self.request, team_id, self.needed())


class StateErrors:
    def conflict(self, exc: Exception) -> Response:
        code = getattr(exc, "status", status.HTTP_409_CONFLICT)
        return Response({"error": str(exc)}, status=code)


LIST_FIELDS = (
    "uid",
    "team_id",
    "status",
    "muted",
    "flapping",
    "severity",
    "summary",
    "source",
    "labels",
    "value",
    "occurrences",
    "first_seen",
    "last_seen",
    "fired_at",
    "acknowledged_at",
    "resolved_at",
    "service__slug",
    "incident__uid",
    "assignee__username",
)
ALERT_FILTERS = [
    OpenApiParameter("status", str, description="comma-separated: pending,firing,acknowledged,resolved, or open"),
    OpenApiParameter("severity", str, description="comma-separated severities"),
    OpenApiParameter("service", str, description="service slug"),
    OpenApiParameter("muted", bool),
    OpenApiParameter("q", str, description="search in summary and labels"),
]


@extend_schema(parameters=ALERT_FILTERS)
class AlertViewSet(ScopedMixin, StateErrors, viewsets.ReadOnlyModelViewSet):
    pagination_class = KeysetPagination  # ?cursor= pages and a capped count (core/pagination.py)

    def get_serializer_class(self):
        return s.AlertDetailSerializer if self.action == "retrieve" else s.AlertSerializer

    def list(self, request, *args, **kwargs):
        """AlertSerializer's rows, built without it (alerts/api/list_rows.py: 10x cheaper)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values(*LIST_VALUES))
        return self.get_paginated_response(alert_rows(page))

    def get_queryset(self):
        qs = Alert.objects.filter(team_id__in=self.team_ids()).select_related("service", "incident", "assignee")
        if self.action == "list":  # load only what the list shows (measured: a third less time per page)
            qs = qs.only(*LIST_FIELDS)
        params = self.request.query_params
        if params.get("status"):
            wanted = set(params["status"].split(","))
            if "open" in wanted:  # exactly OPEN_STATUSES, so the partial indexes on open alerts apply
                wanted = (wanted - {"open"}) | set(OPEN_STATUSES)
            qs = qs.filter(status__in=sorted(wanted))
        if params.get("severity"):
            qs = qs.filter(severity__in=params["severity"].split(","))
        if params.get("service"):
            qs = qs.filter(service__slug=params["service"])
        if params.get("muted") in ("true", "1"):
            qs = qs.exclude(muted="")
        elif params.get("muted") in ("false", "0"):
            qs = qs.filter(muted="")
        if params.get("q"):
            qs = qs.filter(Q(summary__icontains=params["q"]) | Q(labels__icontains=params["q"]))
        return qs.order_by("-last_seen", "-id")

    def _act(self, fn, **kwargs) -> Response:
        alert = self.get_object()
        if fn not in (snooze.alert_snooze, snooze.alert_unsnooze):
            kwargs.setdefault("actor_name", actor_name(self.request))
        try:
            fn(alert=alert, **kwargs)
        except (alert_services.AlertError, snooze.SnoozeError) as exc:
            return self.conflict(exc)
        alert.refresh_from_db()
        return Response(s.AlertDetailSerializer(alert).data)

    @extend_schema(request=None, responses=s.AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, id=None):
        return self._act(alert_services.alert_acknowledge, by=actor(request))

    @extend_schema(request=None, responses=s.AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def unacknowledge(self, request, id=None):
        return self._act(alert_services.alert_unacknowledge, by=actor(request))

    @extend_schema(request=None, responses=s.AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, id=None):
        return self._act(
            alert_services.alert_resolve, by=actor(request), actor_name=actor_name(request), reason="resolved by hand"
        )

    @extend_schema(request=None, responses=s.AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, id=None):
        return self._act(alert_services.alert_reopen, by=actor(request))

    @extend_schema(request=s.TextSerializer, responses=s.AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def note(self, request, id=None):
        body = validated(s.TextSerializer, request.data)
        return self._act(alert_services.alert_note, by=actor(request), text=body["text"])

    @extend_schema(request=s.SnoozeSerializer, responses=s.AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, id=None):
        """Keep an open alert quiet (no paging) for 30m, 1h, 4h, 24h or until it clears."""
        body = validated(s.SnoozeSerializer, request.data)
        return self._act(snooze.alert_snooze, by=actor(request), duration=body["duration"], channel=channel(request))

    @extend_schema(request=None, responses=s.AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def unsnooze(self, request, id=None):
        return self._act(snooze.alert_unsnooze, by=actor(request))

    @extend_schema(request=s.AssignSerializer, responses=s.AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, id=None):
        body = validated(s.AssignSerializer, request.data, context={"team": self.get_object().team})
        return self._act(alert_services.alert_assign, by=actor(request), assignee=body["assignee"])

    @extend_schema(request=s.TextSerializer(required=False), responses=s.AlertDetailSerializer)
    @action(detail=True, methods=["post"], url_path="not-anomaly")
    def not_anomaly(self, request, id=None):
        """An anomaly alert that was normal: the series' anomaly alerts get less eager (revocable)."""
        alert = self.get_object()
        if alert.series_id is None or alert.rule is None or alert.rule.kind != "anomaly":
            return self.conflict(alert_services.AlertError("only alerts of anomaly rules take this feedback"))
        text = (request.data.get("text") if hasattr(request.data, "get") else "") or ""
        feedback_record(
            series=alert.series,
            alert_id=alert.id,
            by=actor(request),
            note=str(text)[:2000],
            kind=alert.annotations.get("anomaly_kind", ""),
        )
        return self._act(alert_services.alert_note, by=actor(request), text="marked as not an anomaly")

    @extend_schema(request=s.AlertSilenceSerializer, responses={201: s.AlertDetailSerializer})
    @action(detail=True, methods=["post"])
    def silence(self, request, id=None):
        alert = self.get_object()
        data = validated(s.AlertSilenceSerializer, request.data)
        matchers = data.get("matchers") or [{"name": k, "op": "=", "value": v} for k, v in sorted(alert.labels.items())]
        ends_at = timezone.now() + td(minutes=data["duration_minutes"])
        problems = muting.silence_problems(
            matchers=matchers, starts_at=None, ends_at=ends_at, confirm_team_wide=data["confirm_team_wide"]
        )
        if problems:
            raise ValidationError(problems)
        muting.silence_create(
            team=alert.team,
            matchers=matchers,
            ends_at=ends_at,
            comment=data["comment"],
            by=actor(request),
            expire_on_resolve=data["expire_on_resolve"],
            for_alert=alert,
            confirm_team_wide=data["confirm_team_wide"],
        )
        alert.refresh_from_db()
        return Response(s.AlertDetailSerializer(alert).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.BulkSerializer, responses={200: dict})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        data = validated(s.BulkSerializer, request.data)
        alerts = list(self.get_queryset().filter(uid__in=data["ids"]))
        missing = {str(i) for i in data["ids"]} - {str(a.uid) for a in alerts}
        if missing:
            raise ValidationError({"ids": f"unknown alert(s): {', '.join(sorted(missing))}"})
        if data["action"] == "silence" and not (data.get("duration_minutes") and data.get("comment")):
            raise ValidationError({"duration_minutes": "silence needs duration_minutes and comment"})
        done, skipped = [], []
        for alert in alerts:
            try:
                if data["action"] == "acknowledge":
                    alert_services.alert_acknowledge(alert=alert, by=actor(request), actor_name=actor_name(request))
                elif data["action"] == "resolve":
                    alert_services.alert_resolve(
                        alert=alert, by=actor(request), actor_name=actor_name(request), reason="bulk resolve"
                    )
                else:
                    muting.silence_create(
                        team=alert.team,
                        matchers=[{"name": k, "op": "=", "value": v} for k, v in alert.labels.items()],
                        ends_at=timezone.now() + td(minutes=data["duration_minutes"]),
                        comment=data["comment"],
                        by=actor(request),
                        for_alert=alert,
                    )
                done.append(str(alert.uid))
            except alert_services.AlertError as exc:
                skipped.append({"id": str(alert.uid), "error": str(exc)})
            except DjangoValidationError as exc:  # a silence from labels that match every alert
                skipped.append({"id": str(alert.uid), "error": "; ".join(exc.messages)})
        return Response({"done": done, "skipped": skipped})


class IncidentViewSet(ScopedMixin, StateErrors, viewsets.ReadOnlyModelViewSet):
    def get_serializer_class(self):
        return s.IncidentDetailSerializer if self.action == "retrieve" else s.IncidentSerializer

    @extend_schema(parameters=[OpenApiParameter("status", str), OpenApiParameter("service", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        qs = Incident.objects.filter(team_id__in=self.team_ids()).select_related("service", "assignee")
        params = self.request.query_params
        if params.get("status"):
            wanted = set(params["status"].split(","))
            if "open" in wanted:
                wanted |= {"triggered", "acknowledged"}
            qs = qs.filter(status__in=wanted)
        if params.get("service"):
            qs = qs.filter(service__slug=params["service"])
        return qs.annotate(alert_count=Count("alerts")).order_by("-opened_at", "-id")

    def _act(self, fn, **kwargs) -> Response:
        incident = self.get_object()
        try:
            fn(incident=incident, **kwargs)
        except (incident_services.IncidentError, snooze.SnoozeError) as exc:
            return self.conflict(exc)
        return Response(s.IncidentDetailSerializer(self.get_queryset().get(pk=incident.pk)).data)

    @extend_schema(request=s.IncidentUpdateSerializer, responses=s.IncidentDetailSerializer)
    def partial_update(self, request, id=None):
        team = self.get_object().team
        body = validated(s.IncidentUpdateSerializer, request.data, partial=True, context={"team": team})
        return self._act(incident_services.incident_update, by=actor(request), **body)

    @extend_schema(request=None, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, id=None):
        return self._act(incident_services.incident_acknowledge, by=actor(request), channel=channel(request))

    @extend_schema(request=s.ResolveSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, id=None):
        body = validated(s.ResolveSerializer, request.data)
        return self._act(
            incident_services.incident_resolve, by=actor(request), note=body["note"], channel=channel(request)
        )

    @extend_schema(request=s.SnoozeSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, id=None):
        """Snooze every open alert of the incident: paging pauses, and resumes when the snooze ends."""
        body = validated(s.SnoozeSerializer, request.data)
        return self._act(snooze.incident_snooze, by=actor(request), duration=body["duration"], channel=channel(request))

    @extend_schema(request=s.TextSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def note(self, request, id=None):
        body = validated(s.TextSerializer, request.data)
        return self._act(incident_services.incident_note, by=actor(request), text=body["text"])

    @extend_schema(request=s.MergeSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, id=None):
        body = validated(s.MergeSerializer, request.data)
        sources = list(self.get_queryset().filter(uid__in=body["incidents"]))
        if len(sources) != len(set(body["incidents"])):
            raise ValidationError({"incidents": "unknown incident(s)"})
        incident = self.get_object()
        try:
            incident_services.incident_merge(target=incident, sources=sources, by=actor(request))
        except incident_services.IncidentError as exc:
            return self.conflict(exc)
        return Response(s.IncidentDetailSerializer(self.get_queryset().get(pk=incident.pk)).data)

    @extend_schema(request=s.SplitSerializer, responses=s.IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def split(self, request, id=None):
        body = validated(s.SplitSerializer, request.data)
        incident = self.get_object()
        alerts = list(Alert.objects.filter(team_id=incident.team_id, uid__in=body["alerts"]))
        try:
            new = incident_services.incident_split(incident=incident, alerts=alerts, by=actor(request))
        except incident_services.IncidentError as exc:
            return self.conflict(exc)
        return Response(
            s.IncidentDetailSerializer(self.get_queryset().get(pk=new.pk)).data, status=status.HTTP_201_CREATED
        )


class TeamOwnedViewSet(ScopedMixin, viewsets.ModelViewSet):
    """Configuration objects: managers and admins change them."""

    model = None
    write_scope = "configure"

    def get_queryset(self):
        return self.model.objects.filter(team_id__in=self.team_ids())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.method == "POST":
            context["team"] = write_team(self.request, self.needed())
        elif getattr(self, "kwargs", {}).get("id"):
            context["team"] = self.get_object().team
        return context

    def perform_create(self, serializer):
        serializer.save(team=serializer.context["team"])


class ServiceViewSet(TeamOwnedViewSet):
    model = Service
    serializer_class = s.ServiceSerializer


class AlertRuleViewSet(TeamOwnedViewSet):
    model = AlertRule
    serializer_class = s.AlertRuleSerializer

    def get_queryset(self):
        return super().get_queryset().select_related("service")

    @extend_schema(parameters=[OpenApiParameter("days", int, description="1–30, default 7")], responses={200: dict})
    @action(detail=True, methods=["get"])
    def backtest(self, request, id=None):
        """What this rule would have fired over the last N days, from stored samples."""
        query = s.BacktestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = rule_backtest(rule=self.get_object(), days=query.validated_data["days"])
        return Response(
            {
                "rule": result.rule,
                "days": result.days,
                "step_s": result.step_s,
                "series": result.series,
                "count": result.count,
                "total_firing_s": result.total_firing_s,
                "firings": [f.__dict__ for f in result.firings],
            }
        )


class SilenceViewSet(TeamOwnedViewSet):
    write_scope = "write"  # responders silence while they work on something
    model = Silence
    serializer_class = s.SilenceSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        silence = muting.silence_create(
            team=serializer.context["team"],
            matchers=data["matchers"],
            ends_at=data["ends_at"],
            starts_at=data.get("starts_at"),
            comment=data["comment"],
            by=actor(self.request),
            expire_on_resolve=data.get("expire_on_resolve", False),
            confirm_team_wide=data.get("confirm_team_wide", False),
        )
        serializer.instance = silence

    def perform_destroy(self, instance):
        """Deleting a silence expires it (the record stays, with its expiry time)."""
        muting.silence_expire(silence=instance, by=actor(self.request))
