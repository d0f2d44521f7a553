"""DRF authentication with `Authorization: Bearer <token>`, and scope checks."""

from __future__ import annotations

from rest_framework import authentication, exceptions, permissions
from rest_framework.exceptions import ValidationError

from core.audit.context import set_token
from core.teams.models import ApiToken, Membership, Team
from core.teams.selectors import api_token_authenticate, role_in_team, team_ids_for_user


class TokenUser:
    """The request.user of a token-authenticated request: a machine acting for one team."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.pk = None
        self.username = f"token:{token.prefix}"

    def __str__(self) -> str:
        return self.username


def bearer_secret(header: str | None) -> str | None:
    if not header:
        return None
    kind, _, secret = header.partition(" ")
    if kind.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header:
            return None
        secret = bearer_secret(header)
        if secret is None:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'")
        token = api_token_authenticate(raw=secret)
        if token is None:
            raise exceptions.AuthenticationFailed("invalid, expired or revoked token")
        set_token(token)  # the audit log names the token as the actor
        return TokenUser(token), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="hiveops"'


# What a person needs for each kind of access (roles: viewer < responder < manager < admin), and
# which token scope stands for "configure" (tokens have ingest, read, write and admin).
SCOPE_ROLE = {"read": "viewer", "ingest": "responder", "write": "responder", "configure": "manager", "admin": "admin"}
TOKEN_SCOPE = {"configure": "write"}
ACTIONS = {"write": "acting on alerts and incidents", "configure": "changing configuration", "admin": "this"}


def request_team_ids(request, scope: str) -> list[int]:
    """Teams the caller may act on with `scope`: read, ingest, write (acknowledge, resolve, notes,
    silences), configure (rules, services, policies, SLOs …) or admin. Tokens act for their own
    team only; people for the teams where their role allows it."""
    token = request.auth if isinstance(request.auth, ApiToken) else None
    if token is not None:
        needed = TOKEN_SCOPE.get(scope, scope)
        if not token.has_scope(needed):
            raise exceptions.PermissionDenied(f"this token lacks the '{needed}' scope")
        return [token.team_id]
    return team_ids_for_user(user=request.user, min_role=SCOPE_ROLE[scope])


def write_team(request, scope: str = "write"):
    """The team a new object belongs to: the token's, or the person's (named by `team` when they
    are in several teams where `scope` is allowed)."""
    team_ids = request_team_ids(request, scope)
    slug = request.data.get("team") if hasattr(request.data, "get") else None
    teams = Team.objects.filter(id__in=team_ids)
    if slug:
        team = teams.filter(slug=slug).first()
        if team is None:
            member_of = Team.objects.filter(slug=slug, memberships__user_id=request.user.pk).first()
            if member_of is not None:
                raise role_denied(request, member_of.pk, scope)
            raise ValidationError({"team": f"you are not a member of team {slug!r} (with a role that may do this)"})
        return team
    if not team_ids and not isinstance(request.auth, ApiToken):
        readable = request_team_ids(request, "read")
        if readable:  # a member whose role is too low everywhere: say so (403), not "name a team"
            raise roles_denied(request, readable, scope)
    if len(team_ids) != 1:
        raise ValidationError({"team": "you are in several teams (or none): name the team's slug"})
    return teams.get()


def role_denied(request, team_id: int, scope: str) -> exceptions.PermissionDenied:
    """403 for a member whose role is too low (who may see the object, so a 404 would confuse)."""
    role = role_in_team(user=request.user, team_id=team_id) or "none"
    needed = SCOPE_ROLE[scope]
    return exceptions.PermissionDenied(
        f"your role in this team is {role}; {ACTIONS.get(scope, 'this')} needs {needed} or above"
    )


def roles_denied(request, team_ids: list[int], scope: str) -> exceptions.PermissionDenied:
    """403 for a member whose role is too low in every one of their teams."""
    if len(team_ids) == 1:
        return role_denied(request, team_ids[0], scope)
    roles = Membership.objects.filter(user=request.user, team_id__in=team_ids).select_related("team")
    named = ", ".join(sorted(f"{m.role} in {m.team.slug}" for m in roles))
    needed = SCOPE_ROLE[scope]
    return exceptions.PermissionDenied(f"your roles are {named}; {ACTIONS.get(scope, 'this')} needs {needed} or above")


def scope_required(scope: str) -> type[permissions.BasePermission]:
    class HasScope(permissions.BasePermission):
        message = f"this token lacks the '{scope}' scope"

        def has_permission(self, request, view) -> bool:
            token = request.auth if isinstance(request.auth, ApiToken) else None
            if token is None:
                return bool(request.user and request.user.is_authenticated)
            return token.has_scope(scope)

    HasScope.__name__ = f"HasScope_{scope}"
    return HasScope
