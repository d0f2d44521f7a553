from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive_ops.settings")

app = Celery("hive_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
