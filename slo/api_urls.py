from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from slo import api

router = SimpleRouter(trailing_slash=False)
router.register("slos", api.SLOViewSet, basename="api-slo")
router.register("slas", api.SLAViewSet, basename="api-sla")

urlpatterns = [path("", include(router.urls))]
