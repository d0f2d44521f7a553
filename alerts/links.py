"""Signed, expiring one-tap acknowledge links (no password needed for that one action)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "hiveops.ack-link"


def ack_token(*, incident_uid: str, user_id: int | None) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"i": str(incident_uid), "u": user_id})


def ack_url(*, incident_uid: str, user_id: int | None) -> str:
    return settings.HIVEOPS_BASE_URL + reverse("ack-link", args=[ack_token(incident_uid=incident_uid, user_id=user_id)])


def ack_token_read(token: str) -> dict:
    """{"i": incident uid, "u": user id or None}; raises signing.BadSignature (or SignatureExpired)."""
    return signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=settings.HIVEOPS_ACK_LINK_MAX_AGE)


def incident_url(incident) -> str:
    return f"{settings.HIVEOPS_BASE_URL}/incidents/{incident.uid}/"
