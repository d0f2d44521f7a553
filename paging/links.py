"""Signed, expiring one-tap links, bound to the delivery they were sent with: the person it was
for (or, for a channel, whoever logs in) and the escalation episode that sent it. A re-trigger
starts a new episode and sends new links; the old ones are refused with a clear page."""

from __future__ import annotations

import functools

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "hiveops.ack-link.v2"


def ack_token(*, notification_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"n": notification_id})


def ack_url(*, notification_id: int | None) -> str:
    """The one-tap page of a delivery; the incident page for a message not tied to one."""
    if notification_id is None:
        return settings.HIVEOPS_BASE_URL + "/"
    return settings.HIVEOPS_BASE_URL + _ack_path() + ack_token(notification_id=notification_id)


@functools.cache
def _ack_path() -> str:
    """/ack/ (resolved once: a burst of deliveries builds thousands of links)."""
    return reverse("ack-link", args=["-"])[:-1]


def ack_token_read(token: str) -> int:
    """The notification id; raises signing.BadSignature (or SignatureExpired)."""
    data = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=settings.HIVEOPS_ACK_LINK_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("n"), int):
        raise signing.BadSignature("not an acknowledge link")
    return data["n"]


def incident_url(incident) -> str:
    return f"{settings.HIVEOPS_BASE_URL}/incidents/{incident.uid}/"
