from __future__ import annotations

from django.apps import AppConfig


class BiConfig(AppConfig):
    name = "bi"
