"""Links that come from outside (Alertmanager's runbook_url and generatorURL, PagerDuty's links):
only absolute http(s) URLs are kept as links; anything else (`javascript:`, `data:`, relative
paths) is not a link. Pure functions, no Django."""

from __future__ import annotations

from urllib.parse import urlsplit

LINK_SCHEMES = ("http", "https")
MAX_LINK = 1024


def http_url(value: object) -> str:
    """`value` if it is an absolute http(s) URL with a host (at most 1024 characters, no control
    characters or spaces), else ""."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if not text or len(text) > MAX_LINK or any(ord(c) < 0x21 or ord(c) == 0x7F for c in text):
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.hostname:
        return ""
    return text
