from __future__ import annotations

from django.apps import AppConfig


class MailsinkConfig(AppConfig):
    name = "mailsink"
    verbose_name = "Local mail sink"
    default_auto_field = "django.db.models.BigAutoField"
