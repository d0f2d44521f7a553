"""The installable web app's files are served with the headers browsers need."""

from __future__ import annotations

import json

from django.test import Client


def test_the_service_worker_is_served_from_the_root_uncached(db):
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    assert b'const OFFLINE = "/offline/"' in response.content


def test_the_manifest_starts_at_the_console(db):
    response = Client().get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == "/console/"
    assert manifest["display"] == "standalone"
    assert Client().get(manifest["icons"][0]["src"]).status_code == 200


def test_the_offline_page_needs_no_login_and_holds_no_data(db):
    body = Client().get("/offline/").content.decode()
    assert "You are offline" in body
    assert "offline.js" in body
