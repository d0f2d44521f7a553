"""Token secrets: generation and hashing. No Django models here."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "hvo_"  # noqa: S105 (a prefix, not a secret)


def token_generate() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
