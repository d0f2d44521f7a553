from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The service catalogue: what each team runs, how critical it is and what a minute down costs.
    Alerts, incidents, SLOs, capacity and paging routes point at these services."""

    name = "catalog"
    verbose_name = "Service catalogue"
