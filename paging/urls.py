from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from paging import api

router = SimpleRouter(trailing_slash=False)
router.register("escalation-policies", api.PolicyViewSet, basename="escalation-policy")
router.register("escalation-routes", api.RouteViewSet, basename="escalation-route")
router.register("rotations", api.RotationViewSet, basename="rotation")
router.register("notifications", api.NotificationViewSet, basename="notification")

urlpatterns = [
    path("incidents/<uuid:id>/paging", api.IncidentPagingView.as_view(), name="incident-paging"),
    path("", include(router.urls)),
]
