"""Alert intake endpoints. They authenticate with an integration key, not a user or API token."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.models import Integration
from alerts.services.intake import (
    PayloadError,
    PayloadTooLarge,
    alertmanager_receive,
    pagerduty_enqueue,
    webhook_receive,
)
from alerts.services.integrations import integration_authenticate
from core import ratelimit
from core.teams.auth import bearer_secret


class IntakeView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    kind = ""

    def integration_from_header(self, request) -> Integration | None:
        secret = bearer_secret(request.headers.get("Authorization"))
        return integration_authenticate(key=secret, kind=self.kind) if secret else None

    def body(self, request):
        try:
            return request.data
        except ParseError as exc:
            raise PayloadError([f"malformed JSON: {exc.detail}"]) from None

    def unauthorized(self) -> Response:
        response = Response({"error": f"send Authorization: Bearer <{self.kind} integration key>"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="hiveops"'
        return response


@extend_schema(tags=["integrations"], request=dict, responses={200: dict, 400: dict, 401: dict, 413: dict})
class AlertmanagerView(IntakeView):
    """Prometheus Alertmanager webhook (payload version 4); at most HIVEOPS_ALERTMANAGER_MAX_ALERTS
    alerts per payload (more: 413 naming the limit; set `max_alerts` in Alertmanager's webhook
    config to stay under it)."""

    kind = Integration.Kind.ALERTMANAGER

    def post(self, request):
        integration = self.integration_from_header(request)
        if integration is None:
            return self.unauthorized()
        try:
            result = alertmanager_receive(integration=integration, payload=self.body(request))
        except PayloadTooLarge as exc:
            body = {"errors": exc.errors, "field": exc.field, "limit": exc.limit, "count": exc.count}
            return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except PayloadError as exc:
            return Response({"errors": exc.errors}, status=400)
        return Response({"status": "ok", "firing": result.firing, "resolved": result.resolved})


@extend_schema(tags=["integrations"], request=dict, responses={200: dict, 400: dict, 401: dict})
class WebhookView(IntakeView):
    """Generic JSON: {"summary", "severity", "status": "firing"|"resolved", "labels", "dedup_key"}."""

    kind = Integration.Kind.WEBHOOK

    def post(self, request):
        integration = self.integration_from_header(request)
        if integration is None:
            return self.unauthorized()
        try:
            alert = webhook_receive(integration=integration, body=self.body(request))
        except PayloadError as exc:
            return Response({"errors": exc.errors}, status=400)
        return Response({"status": "ok", "alert": str(alert.uid) if alert else None})


def invalid_event(errors: list[str]) -> Response:
    """PagerDuty's answer to an event it cannot take (Events API v2 and Change Events alike)."""
    return Response({"status": "invalid event", "message": "Event object is invalid", "errors": errors}, status=400)


def pagerduty_start(view: IntakeView, request) -> tuple[dict, Integration] | Response:
    """The PagerDuty intakes' common start (alert events here, change events in insight): the body,
    the routing key's integration and its per-integration rate limit, or the answer that refuses it."""
    try:
        body = view.body(request)
    except PayloadError as exc:
        return invalid_event(exc.errors)
    routing_key = body.get("routing_key") if isinstance(body, dict) else None
    if not isinstance(routing_key, str) or not routing_key:
        return invalid_event(["'routing_key' is missing or blank"])
    integration = integration_authenticate(key=routing_key, kind=Integration.Kind.PAGERDUTY)
    if integration is None:
        return invalid_event(["'routing_key' is not a known HiveOps PagerDuty integration key"])
    per_minute = settings.HIVEOPS_PAGERDUTY_EVENTS_PER_MINUTE
    verdict = ratelimit.count([ratelimit.Counter("integration", f"pagerduty:{integration.id}", per_minute)])
    if not verdict.allowed:  # with Redis away it is: better unthrottled than lose alerts
        response = Response(
            {
                "status": "throttle exceeded",
                "message": "Requests for this service are arriving too quickly. Please retry later.",
            },
            status=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        response["Retry-After"] = str(verdict.retry_after)
        return response
    return body, integration


class PagerDutyIntakeView(IntakeView):
    """The PagerDuty intakes (alert events here, change events in insight) take the routing key
    of a PagerDuty integration; see pagerduty_start."""

    kind = Integration.Kind.PAGERDUTY


@extend_schema(tags=["integrations"], request=dict, responses={202: dict, 400: dict, 429: dict})
class PagerDutyEnqueueView(PagerDutyIntakeView):
    """PagerDuty Events API v2: `routing_key` is the integration key."""

    def post(self, request):
        started = pagerduty_start(self, request)
        if isinstance(started, Response):
            return started
        body, integration = started
        try:
            event = pagerduty_enqueue(integration=integration, body=body)
        except PayloadError as exc:
            return invalid_event(exc.errors)
        return Response(
            {"status": "success", "message": "Event processed", "dedup_key": event.dedup_key},
            status=status.HTTP_202_ACCEPTED,
        )
