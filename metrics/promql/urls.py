"""`/prometheus/api/v1/…` (mounted under `prometheus/` in hive_ops/urls.py)."""

from django.urls import path

from metrics.promql import api

urlpatterns = [
    path("api/v1/query", api.query, name="prom-query"),
    path("api/v1/query_range", api.query_range, name="prom-query-range"),
    path("api/v1/series", api.series, name="prom-series"),
    path("api/v1/labels", api.labels, name="prom-labels"),
    path("api/v1/label/<str:name>/values", api.label_values, name="prom-label-values"),
    path("api/v1/metadata", api.metadata, name="prom-metadata"),
    path("api/v1/status/buildinfo", api.buildinfo, name="prom-buildinfo"),
]
