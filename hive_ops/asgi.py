"""ASGI entry point for daphne: HTTP through Django, WebSockets through Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hive_ops.settings")
# Build the Django application before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from core import daphne_limit  # noqa: E402
from core.base_url import warn_if_bind_differs  # noqa: E402
from core.bodylimit import BodyLimit  # noqa: E402
from hive_ops.routing import websocket_urlpatterns  # noqa: E402
from metrics.export_flow import FlowControl  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Over-limit intake bodies are refused before Django reads them; streamed exports go at the
        # client's pace.
        "http": BodyLimit(FlowControl(django_asgi_app)),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

daphne_limit.install()  # over-limit intake bodies are refused at the socket, before they are read
warn_if_bind_differs()  # notification links must reach this process
