"""Writing audit rows. Called by the receivers (configuration models, timelines, escalation
steps); must never break the change it records, so failures are logged, not raised."""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import uuid

from django.db import transaction
from django.forms.models import model_to_dict

from core.audit.context import current
from core.audit.models import AuditEvent

logger = logging.getLogger(__name__)
SECRET_WORDS = ("secret", "password", "token_hash", "api_key", "routing_key", "integration_key", "webhook_url")
REDACTED = "[redacted]"


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return f"<{len(value)} bytes>"
    if hasattr(value, "pk"):
        return value.pk
    return value


def redact(data: dict | None, *, in_config: bool = False) -> dict | None:
    """Secrets never reach the log: keys that name one, and channel URLs (Slack and Teams webhook
    URLs are credentials) inside a `config`."""
    if data is None:
        return None
    out = {}
    for key, value in data.items():
        secret = any(word in key.lower() for word in SECRET_WORDS) or (in_config and key == "url")
        if secret:
            out[key] = REDACTED if value else value
        elif isinstance(value, dict):
            out[key] = redact(value, in_config=in_config or key == "config")
        else:
            out[key] = value
    return out


def snapshot(instance) -> dict:
    return redact(jsonable(model_to_dict(instance)))


def actor_of(by=None, actor_name: str | None = None) -> tuple[int | None, str]:
    """The acting user id and a name: the explicit actor, else the request's token or user."""
    context = current()
    if by is not None and getattr(by, "pk", None):
        return by.pk, by.get_username()
    if context.token is not None:
        return None, f"token {context.token.name}"
    user = context.user
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "pk", None):
        return user.pk, user.get_username()
    return None, actor_name or "system"


def audit_record(
    *,
    action: str,
    instance=None,
    object_type: str = "",
    object_id: str = "",
    team_id=None,
    before: dict | None = None,
    after: dict | None = None,
    by=None,
    actor_name: str | None = None,
) -> None:
    context = current()
    actor_id, name = actor_of(by, actor_name)
    if instance is not None:
        object_type = object_type or instance._meta.label_lower
        object_id = object_id or str(instance.pk)
        if team_id is None:
            team_id = instance.pk if instance._meta.label_lower == "teams.team" else getattr(instance, "team_id", None)
    row = AuditEvent(
        team_id=team_id,
        actor_id=actor_id,
        actor_name=name[:200],
        source_ip=context.ip,
        via=context.via,
        action=action[:64],
        object_type=object_type[:64],
        object_id=object_id[:64],
        object_repr=str(instance)[:300] if instance is not None else "",
        before=before,
        after=after,
    )
    try:
        with transaction.atomic():  # a savepoint: a failed audit write leaves the change alone
            row.save()
    except Exception:
        logger.exception("audit row not written: %s %s %s", action, object_type, object_id)
