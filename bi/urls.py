"""Routes of the executive dashboard: the page and its exports (`pages`) and the API (`api`)."""

from __future__ import annotations

from django.urls import path

from bi import views

pages = [
    path("", views.dashboard, name="bi-dashboard"),
    path("export.csv", views.export, {"fmt": "csv"}, name="bi-export-csv"),
    path("export.pdf", views.export, {"fmt": "pdf"}, name="bi-export-pdf"),
]
api = [
    path("bi/summary", views.summary_api, name="bi-summary-api"),
]
