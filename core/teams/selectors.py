from __future__ import annotations

from datetime import timedelta as td

from django.utils import timezone

from core.teams.models import ApiToken, Membership, Profile
from core.teams.tokens import token_hash

LAST_USED_RESOLUTION = td(minutes=1)


ROLES = ["viewer", "responder", "manager", "admin"]  # each can do what the ones before it can


def roles_at_least(role: str) -> list[str]:
    return ROLES[ROLES.index(role) :]


def team_ids_for_user(*, user, min_role: str = "viewer") -> list[int]:
    """Teams the user belongs to with at least `min_role`."""
    if not user.is_authenticated:
        return []
    memberships = Membership.objects.filter(user=user)
    if min_role != "viewer":
        memberships = memberships.filter(role__in=roles_at_least(min_role))
    return list(memberships.values_list("team_id", flat=True))


def user_timezones(*, user_ids: set[int]) -> dict[int, str]:
    """The time zone of each user who set one in their profile."""
    return dict(Profile.objects.filter(user_id__in=user_ids).values_list("user_id", "timezone"))


def role_in_team(*, user, team_id: int) -> str | None:
    return Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The active token for a raw secret, or None. Records last use at most once a minute."""
    token = ApiToken.objects.select_related("team").filter(token_hash=token_hash(raw)).first()
    now = timezone.now()
    if token is None or not token.is_active(now):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
