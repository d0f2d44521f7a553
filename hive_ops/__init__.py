from __future__ import annotations

from hive_ops.celery import app as celery_app

__all__ = ["celery_app"]
