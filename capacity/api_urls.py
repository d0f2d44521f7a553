from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from capacity import api

router = SimpleRouter(trailing_slash=False)
router.register("capacity/resources", api.ResourceViewSet, basename="capacity-resource")
router.register("capacity/scenarios", api.ScenarioViewSet, basename="capacity-scenario")
router.register("capacity/runs", api.RunViewSet, basename="capacity-run")

urlpatterns = [
    path("capacity/summary", api.SummaryView.as_view(), name="capacity-summary"),
    path("", include(router.urls)),
]
