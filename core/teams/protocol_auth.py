"""Authentication for the protocol endpoints (`/prometheus`, `/alertmanager`, `/otlp`): the same
API tokens and scopes as the rest of the API, sent as `Authorization: Bearer <token>` or as the
password of HTTP Basic authentication with any user name. The Basic form is what `promtool`
(credentials in the URL), `amtool` and many Grafana set-ups send.

These endpoints answer in their protocol's own error shape, so this module returns a result or
raises `ProtocolAuthError` (status and message) rather than DRF exceptions. A signed-in person
(session) may use GET; writes need a token (no CSRF token comes with these clients)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from core import ratelimit
from core.audit.context import set_token
from core.teams.auth import SCOPE_ROLE, TOKEN_SCOPE
from core.teams.models import ApiToken
from core.teams.selectors import api_token_authenticate, team_ids_for_user

CHALLENGE = 'Bearer realm="hiveops", Basic realm="hiveops"'


class ProtocolAuthError(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Caller:
    team_ids: list[int]
    token: ApiToken | None
    key: str  # for rate limits: token:<id> or user:<id>


def secret_from_header(header: str | None) -> str | None:
    """The token in `Bearer <token>` or in the password of `Basic base64(user:token)`."""
    if not header:
        return None
    kind, _, rest = header.strip().partition(" ")
    rest = rest.strip()
    if kind.lower() == "bearer":
        return rest or None
    if kind.lower() == "basic":
        try:
            decoded = base64.b64decode(rest, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ProtocolAuthError(401, "the Basic credentials are not base64 of user:token") from None
        _, sep, password = decoded.partition(":")
        return password if sep and password else None
    raise ProtocolAuthError(401, "Authorization must be 'Bearer <token>' or Basic with the token as password")


def protocol_caller(request, scope: str) -> Caller:
    """The teams this request may act on with `scope` (read, ingest, write), rate-limited."""
    secret = secret_from_header(request.META.get("HTTP_AUTHORIZATION"))
    if secret is not None:
        token = api_token_authenticate(raw=secret)
        if token is None:
            raise ProtocolAuthError(401, "invalid, expired or revoked token")
        needed = TOKEN_SCOPE.get(scope, scope)
        if not token.has_scope(needed):
            raise ProtocolAuthError(403, f"this token lacks the '{needed}' scope")
        set_token(token)
        caller = Caller([token.team_id], token, f"token:{token.pk}")
    elif getattr(request, "user", None) is not None and request.user.is_authenticated and request.method == "GET":
        team_ids = team_ids_for_user(user=request.user, min_role=SCOPE_ROLE[scope])
        caller = Caller(team_ids, None, f"user:{request.user.pk}")
    else:
        raise ProtocolAuthError(401, "authentication required: an API token as Bearer or as the Basic password")
    verdict = ratelimit.check(
        kind="ingest" if scope == "ingest" else "api",
        caller=caller.key,
        team_id=caller.token.team_id if caller.token else None,
    )
    if not verdict.allowed:
        raise ProtocolAuthError(429, "rate limit exceeded; retry later", retry_after=verdict.retry_after)
    return caller
