"""WebSocket routes, served by daphne next to HTTP."""

from __future__ import annotations

from django.urls import path

from core.live import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
]
