from __future__ import annotations

from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "hive_ops.teams"
    label = "teams"
    verbose_name = "Teams and API tokens"

    def ready(self) -> None:
        from hive_ops import live_revoke, login_throttle, schema  # noqa: F401  signal receivers, OpenAPI scheme
