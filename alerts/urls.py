from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from alerts.api import intake, views

router = SimpleRouter(trailing_slash=False)
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("rules", views.AlertRuleViewSet, basename="rule")
router.register("silences", views.SilenceViewSet, basename="silence")
router.register("services", views.ServiceViewSet, basename="service")

urlpatterns = [
    path("integrations/alertmanager", intake.AlertmanagerView.as_view(), name="intake-alertmanager"),
    path("integrations/webhook", intake.WebhookView.as_view(), name="intake-webhook"),
    path("integrations/pagerduty/enqueue", intake.PagerDutyEnqueueView.as_view(), name="intake-pagerduty"),
    path("", include(router.urls)),
]
