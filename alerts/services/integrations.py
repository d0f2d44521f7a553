from __future__ import annotations

import secrets

from django.utils import timezone

from alerts.models import Integration
from core.teams.tokens import token_hash


def integration_create(*, team, kind: str, name: str, service=None) -> tuple[Integration, str]:
    """Create an integration; returns it with its key (32 hex characters, like a PagerDuty
    routing key), which is shown once and stored hashed."""
    if kind not in Integration.Kind.values:
        raise ValueError(f"kind must be one of {', '.join(Integration.Kind.values)}")
    key = secrets.token_hex(16)
    integration = Integration.objects.create(
        team=team, service=service, kind=kind, name=name, key_prefix=key[:6], key_hash=token_hash(key)
    )
    return integration, key


def integration_authenticate(*, key: str, kind: str) -> Integration | None:
    integration = (
        Integration.objects.select_related("team", "service")
        .filter(key_hash=token_hash(key), kind=kind, revoked_at=None)
        .first()
    )
    if integration is not None:
        Integration.objects.filter(pk=integration.pk).update(last_event_at=timezone.now())
    return integration
