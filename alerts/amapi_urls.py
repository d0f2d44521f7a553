"""`/alertmanager/api/v2/…` (mounted under `alertmanager/` in hive_ops/urls.py)."""

from django.urls import path

from alerts import amapi

urlpatterns = [
    path("api/v2/alerts", amapi.alerts, name="am-alerts"),
    path("api/v2/silences", amapi.silences, name="am-silences"),
    path("api/v2/silence/<str:silence_id>", amapi.silence, name="am-silence"),
    path("api/v2/status", amapi.status, name="am-status"),
]
