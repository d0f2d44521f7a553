"""`GET /metrics` in the Prometheus text format, for a configured token or network only.

Access: `HIVEOPS_METRICS_ALLOW` (comma-separated networks, e.g. `10.0.0.0/8,127.0.0.1/32`) lets
those client addresses in; otherwise `Authorization: Bearer $HIVEOPS_METRICS_TOKEN` is needed.
With neither set, /metrics answers 403 to everyone.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from core.audit.context import client_ip
from core.observability import metrics  # noqa: F401  (defines the metrics before the first scrape)
from core.observability.collector import ScrapeCollector
from core.teams.auth import bearer_secret

_scrape_registry = CollectorRegistry(auto_describe=False)
_scrape_registry.register(ScrapeCollector())


def scrape_collector_register(collector) -> None:
    """Apps add their own scrape-time gauges (metrics: storage and TimescaleDB job health)."""
    _scrape_registry.register(collector)


@functools.cache
def _networks(values: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(value, strict=False) for value in values]
    except ValueError as exc:
        raise ImproperlyConfigured(f"HIVEOPS_METRICS_ALLOW: {exc}") from None


def allowed(request: HttpRequest) -> int:
    """200 when the caller may scrape, else 401 (token missing or wrong) or 403."""
    address = client_ip(request.META)
    networks = _networks(tuple(settings.HIVEOPS_METRICS_ALLOW))
    if address and networks:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if ip is not None and any(ip in net for net in networks):
            return 200
    expected = settings.HIVEOPS_METRICS_TOKEN
    if not expected:
        return 403
    given = bearer_secret(request.headers.get("Authorization")) or ""
    return 200 if hmac.compare_digest(given.encode(), expected.encode()) else 401


def _process_registry():
    """All processes' values in multiprocess mode (files of dead processes' live gauges removed);
    this process's otherwise."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return REGISTRY
    for file in Path(path).glob("gauge_live*_*.db"):
        pid = int(file.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, path)
        except PermissionError:
            pass
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=path)
    return registry


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    status = allowed(request)
    if status != 200:
        response = HttpResponse(
            "send Authorization: Bearer <HIVEOPS_METRICS_TOKEN>\n" if status == 401 else "forbidden\n",
            status=status,
            content_type="text/plain; charset=utf-8",
        )
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="hiveops-metrics"'
        return response
    body = generate_latest(_process_registry()) + generate_latest(_scrape_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
