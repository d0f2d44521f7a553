"""Alertmanager API v2 semantics on HiveOps' own alerts and silences (what Prometheus and amtool
use). Alerts posted here go through `alertmanager_receive`, the webhook intake's path: the same
dedup, grouping, incidents and escalation. Silences are HiveOps silences.

Prometheus v2 posts alerts without a status: an alert whose `endsAt` has passed is resolved (that
is how Prometheus reports a rule that stopped firing); otherwise it fires. Alerts arrive through a
per-team integration named "Alertmanager API", created on first use, so their fingerprints (and
their dedup) stay apart from a webhook integration's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from alerts.models import Alert, Integration, Silence
from alerts.models.alerts import OPEN_STATUSES
from alerts.services.intake import IntakeResult, PayloadError, alertmanager_receive
from alerts.services.integrations import integration_create
from alerts.services.muting import silence_create, silence_expire
from core.timeparse import ParamError, rfc3339
from metrics.matchers import MatcherError, validate

INTEGRATION_NAME = "Alertmanager API"


def amapi_integration(*, team) -> Integration:
    """The team's integration for alerts posted to /alertmanager/api/v2/alerts."""
    with transaction.atomic():
        found = (
            Integration.objects.select_for_update()
            .filter(team=team, kind=Integration.Kind.ALERTMANAGER, name=INTEGRATION_NAME, revoked_at=None)
            .first()
        )
        if found is None:
            found, _ = integration_create(team=team, kind=Integration.Kind.ALERTMANAGER, name=INTEGRATION_NAME)
    return found


def parse_time(value: object, field: str) -> datetime | None:
    if value in (None, "", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"):
        return None  # Go's zero time: not set
    if not isinstance(value, str):
        raise PayloadError([f"{field}: must be an RFC 3339 time"])
    try:
        return datetime.fromtimestamp(rfc3339(value, field), UTC)  # the one time parser (core/timeparse.py)
    except ParamError as exc:
        raise PayloadError([f"{exc.field}: {exc.message}"]) from None


def amapi_alerts_receive(*, team, alerts: object, now: datetime | None = None) -> IntakeResult:
    """Post alerts as Prometheus does (a JSON list of {labels, annotations, startsAt, endsAt,
    generatorURL}); all-or-nothing."""
    if not isinstance(alerts, list):
        raise PayloadError(["body must be a JSON list of alerts"])
    now = now or timezone.now()
    payload = []
    for i, item in enumerate(alerts):
        if not isinstance(item, dict):
            raise PayloadError([f"[{i}]: must be an object"])
        ends = parse_time(item.get("endsAt"), f"[{i}].endsAt")
        parse_time(item.get("startsAt"), f"[{i}].startsAt")
        status = "resolved" if ends is not None and ends <= now else "firing"
        payload.append({**item, "status": status})
    return alertmanager_receive(integration=amapi_integration(team=team), payload={"alerts": payload})


def open_alerts(*, team_ids: list[int]):
    return Alert.objects.filter(team_id__in=team_ids, status__in=OPEN_STATUSES).select_related("silence", "integration")


# Silences: Alertmanager's matcher objects <-> HiveOps' {name, op, value}.
def matchers_from_am(raw: object) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise PayloadError(["matchers: a non-empty list of {name, value, isRegex, isEqual}"])
    out = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not isinstance(m.get("value"), str):
            raise PayloadError([f"matchers[{i}]: needs name and value strings"])
        regex, equal = bool(m.get("isRegex", False)), m.get("isEqual", True) is not False
        op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[(regex, equal)]
        out.append({"name": m["name"], "op": op, "value": m["value"]})
    try:
        return validate(out)
    except MatcherError as exc:
        raise PayloadError([f"matchers: {exc}"]) from None


def matchers_to_am(matchers: list[dict[str, str]]) -> list[dict]:
    return [
        {
            "name": m["name"],
            "value": m["value"],
            "isRegex": m.get("op", "=") in ("=~", "!~"),
            "isEqual": m.get("op", "=") in ("=", "=~"),
        }
        for m in matchers
    ]


def silence_state(silence: Silence, now: datetime) -> str:
    if silence.expired_at is not None or silence.ends_at <= now:
        return "expired"
    return "pending" if silence.starts_at > now else "active"


@transaction.atomic
def amapi_silence_save(*, team, body: object, by=None, created_by: str = "") -> Silence:
    """POST /silences: a new silence, or (with the id of one of the team's) its replacement,
    as Alertmanager does: the old one expires and a new one takes its place."""
    if not isinstance(body, dict):
        raise PayloadError(["body must be a JSON object (a silence)"])
    matchers = matchers_from_am(body.get("matchers"))
    starts = parse_time(body.get("startsAt"), "startsAt") or timezone.now()
    ends = parse_time(body.get("endsAt"), "endsAt")
    if ends is None:
        raise PayloadError(["endsAt: required"])
    comment = body.get("comment")
    if not isinstance(comment, str) or not comment.strip():
        raise PayloadError(["comment: required"])
    author = body.get("createdBy") if isinstance(body.get("createdBy"), str) else created_by
    previous = None
    if body.get("id"):
        previous = Silence.objects.filter(team=team, uid=str(body["id"])).first() if _is_uuid(body["id"]) else None
        if previous is None:
            raise PayloadError([f"id: no silence {str(body['id'])[:40]!r} in your team"])
    silence = silence_create(
        team=team,
        matchers=matchers,
        starts_at=max(starts, timezone.now()),
        ends_at=ends,
        comment=f"{comment.strip()} (by {author[:80]})" if author else comment.strip(),
        by=by,
    )
    if previous is not None:
        silence_expire(silence=previous, by=by)
    return silence


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
