"""Routes of the insight app: the API (`api`, under /api/v1/) and the correlation page (`pages`)."""

from __future__ import annotations

from django.urls import path

from insight import api, views

api_urls = [
    path("incidents/<uuid:uid>/related", api.IncidentRelatedView.as_view(), name="incident-related"),
    path("analysis/rootcause", api.RootCauseView.as_view(), name="analysis-rootcause"),
    path("analysis/correlations", api.CorrelationsView.as_view(), name="analysis-correlations"),
    path("changes", api.ChangeListView.as_view(), name="change-list"),
    path("integrations/pagerduty/change/enqueue", api.PagerDutyChangeView.as_view(), name="intake-pagerduty-change"),
]
pages = [
    path("", views.correlations_page, name="insight-correlations"),
]
