"""The installable web app: manifest, service worker (served from the site root so that its
scope covers every page) and the offline page it falls back to."""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control


def _static(path: str) -> bytes:
    found = finders.find(path)
    if not found:
        raise Http404(path)
    with open(found, "rb") as f:
        return f.read()


@cache_control(no_cache=True, max_age=0)
def service_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_static("pwa/sw.js"), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_static("pwa/manifest.webmanifest"), content_type="application/manifest+json")


def offline(request: HttpRequest) -> HttpResponse:
    """Static shell (no data, no login): the service worker caches it; its script reads the cache."""
    return render(request, "offline.html", {"debug": settings.DEBUG})
