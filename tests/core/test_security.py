"""Web security headers: a strict Content-Security-Policy everywhere (scripts only from our own
files), and the API docs page works under it."""

from __future__ import annotations

import re

from django.test import Client


def test_every_response_carries_the_policy(db, alice):
    client = Client()
    client.force_login(alice)
    for url in ("/login/", "/console/", "/api/v1/alerts", "/api/docs/", "/offline/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "object-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy


def test_pages_have_no_inline_scripts(db, alice):
    """Under script-src 'self' an inline script would not run: every script has a src."""
    client = Client()
    client.force_login(alice)
    for url in ("/", "/console/", "/oncall/", "/anomalies/", "/forecasting/models/", "/slos/", "/api/docs/"):
        body = client.get(url).content.decode()
        inline = [s for s in re.findall(r"<script([^>]*)>", body) if "src=" not in s and "json" not in s]
        assert inline == [], f"{url} has an inline script"
        assert " onclick=" not in body
        assert " onload=" not in body
