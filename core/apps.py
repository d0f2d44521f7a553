from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Holds no models (teams and audit are apps of their own, inside this package); connects the
    signal receivers of the shared helpers and the OpenAPI authentication scheme."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import live_revoke, login_throttle, schema  # noqa: F401  signal receivers, OpenAPI scheme
