"""Installed instead of django.contrib.admin so that `admin.site` is the HiveOps site. A module of
its own: it is imported while the app registry loads, before models may be imported."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class HiveOpsAdminConfig(AdminConfig):
    default_site = "core.admin_site.HiveOpsAdminSite"
