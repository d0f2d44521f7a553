from __future__ import annotations

from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "core.teams"
    label = "teams"
    verbose_name = "Teams and API tokens"
