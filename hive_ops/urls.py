from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from alerts.api import exports as alert_exports
from bi import urls as bi_urls
from core import pwa
from core.audit.api import AuditListView
from core.observability import health, prometheus
from forecasting import views as forecasting_views
from insight import urls as insight_urls
from metrics import api as metrics_api
from metrics import export_views, otlp_api
from metrics import views as metrics_views
from paging import pages as paging_pages
from paging import views as paging_views
from recommendations import urls as recommendations_urls
from recommendations.quality import api as quality_api
from recommendations.quality import views as quality_views

urlpatterns = [
    path("", metrics_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", prometheus.metrics_view, name="prometheus-metrics"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Bookmarks from before SLOs, SLAs and services moved out of alerts keep working.
    re_path(
        r"^admin/alerts/(?P<model>slo|sla)/(?P<rest>.*)$", RedirectView.as_view(url="/admin/slo/%(model)s/%(rest)s")
    ),
    re_path(r"^admin/alerts/service/(?P<rest>.*)$", RedirectView.as_view(url="/admin/catalog/service/%(rest)s")),
    path("admin/", admin.site.urls),
    path("ack/<str:token>", paging_views.ack_link, name="ack-link"),
    path("oncall/", paging_views.oncall, name="oncall"),
    path("mail/", include("mailsink.urls")),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("offline/", pwa.offline, name="offline"),
    path("console/", paging_pages.console_page, name="console"),
    path("console/feed", paging_pages.console_feed, name="console-feed"),
    path("incidents/<uuid:uid>/", paging_pages.incident_page, name="incident"),
    path("series/<uuid:uid>/", forecasting_views.series_page, name="series"),
    path("anomalies/", forecasting_views.anomalies_page, name="anomalies"),
    path("forecasting/models/", forecasting_views.models_page, name="forecasting-models"),
    path("quality/", quality_views.quality_page, name="quality"),
    path("recommendations/", include(recommendations_urls.pages)),
    path("slos/", include("slo.urls")),
    path("capacity/", include("capacity.urls")),
    path("business/correlations/", include(insight_urls.pages)),
    path("business/", include(bi_urls.pages)),
    path("prometheus/", include("metrics.promql.urls")),
    path("alertmanager/", include("alerts.amapi_urls")),
    path("otlp/v1/metrics", otlp_api.otlp_metrics, name="otlp-metrics"),
    path("api/v1/ingest", metrics_api.ingest_json, name="ingest"),
    path("api/v1/prom/write", metrics_api.ingest_remote_write, name="prom-write"),
    path("api/v1/series", metrics_api.SeriesListView.as_view(), name="series-list"),
    path("api/v1/query_range", metrics_api.QueryRangeView.as_view(), name="query-range"),
    path("api/v1/export/series", export_views.SeriesExportView.as_view(), name="export-series"),
    path("api/v1/export/incidents.csv", alert_exports.IncidentExportView.as_view(), name="export-incidents"),
    path("api/v1/export/alerts.csv", alert_exports.AlertExportView.as_view(), name="export-alerts"),
    path("api/v1/quality", quality_api.QualityView.as_view(), name="quality-api"),
    path("api/v1/", include(recommendations_urls.api_urls)),
    path("api/v1/", include("paging.urls")),
    path("api/v1/", include("alerts.urls")),
    path("api/v1/", include("slo.api_urls")),
    path("api/v1/", include("forecasting.urls")),
    path("api/v1/", include("capacity.api_urls")),
    path("api/v1/", include(bi_urls.api)),
    path("api/v1/", include(insight_urls.api_urls)),
    path("api/v1/audit", AuditListView.as_view(), name="audit-list"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script under the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = "core.api.not_found"
handler500 = "core.unavailable.server_error"  # 503 + Retry-After when the database is away
